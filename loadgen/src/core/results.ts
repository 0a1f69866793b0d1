import type { RunResults } from '../../../contract/results.ts';

const CSV_COLUMNS = [
  't',
  'fn',
  'dialled',
  'sent',
  'completed',
  'dropped',
  '2xx',
  '3xx',
  '4xx',
  '5xx',
  'net',
  'p50_ms',
  'p90_ms',
  'p99_ms',
  'max_ms',
  'errors',
] as const;

/** One row per function per second; error codes as `CODE:n` pairs separated by spaces. */
export function toCsv(results: RunResults): string {
  const rows = results.seconds.map((s) =>
    [
      s.t,
      s.fn,
      s.dialled,
      s.sent,
      s.completed,
      s.dropped,
      s.byClass['2xx'],
      s.byClass['3xx'],
      s.byClass['4xx'],
      s.byClass['5xx'],
      s.byClass.net,
      s.p50,
      s.p90,
      s.p99,
      s.max,
      Object.entries(s.byCode)
        .map(([c, n]) => `${c}:${n}`)
        .join(' '),
    ].join(','),
  );
  return `${[CSV_COLUMNS.join(','), ...rows].join('\n')}\n`;
}
