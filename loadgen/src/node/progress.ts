import type { EngineEvent } from '../../../contract/engine.ts';
import type { SecondStats } from '../../../contract/results.ts';

/**
 * One line per finished second of a run, on stderr: the rate dialled (or that the plan has
 * ended and answers are still coming in) and achieved, what is in flight, and the totals so
 * far. The engine reports the seconds after the plan's end together; each gets its own line.
 */
export function progressPrinter(
  totalS: number,
  write: (line: string) => void = (line) => process.stderr.write(line),
) {
  const total = { errors: 0, dropped: 0, p99: 0 };
  return (event: EngineEvent) => {
    if (event.type !== 'second') return;
    const bySecond = new Map<number, SecondStats[]>();
    for (const s of event.stats) bySecond.set(s.t, [...(bySecond.get(s.t) ?? []), s]);
    for (const [t0, stats] of [...bySecond].sort(([a], [b]) => a - b)) {
      const t = t0 + 1;
      const achieved = stats.reduce((n, x) => n + x.completed, 0);
      total.errors += stats.reduce((n, x) => n + x.completed - x.byClass['2xx'], 0);
      total.dropped += stats.reduce((n, x) => n + x.dropped, 0);
      total.p99 = Math.max(total.p99, ...stats.map((x) => x.p99));
      const dialled = stats.reduce((n, x) => n + x.dialled, 0);
      const rate = t > totalS ? 'plan ended, answers still coming in:' : `dialled ${dialled.toFixed(1)}/s`;
      write(
        `t=${t}s  ${rate}  achieved ${achieved}/s  in-flight ${event.inFlight}  ` +
          `p99 so far ${total.p99.toFixed(1)} ms  errors ${total.errors}  dropped ${total.dropped}\n`,
      );
    }
  };
}
