import type { Range } from './range.ts';
import { STATE_NAMES, type State } from './state.ts';

/** The units of measure the guidelines allow (none: a plain number, `c`: a counter). */
export type Uom = '' | 's' | 'ms' | '%' | 'B' | 'KB' | 'MB' | 'c';

/** One `'label'=value[UOM];[warn];[crit];[min];[max]`; value undefined is the guidelines' `U`. */
export interface Perf {
  label: string;
  value: number | undefined;
  uom: Uom;
  warning?: Range;
  critical?: Range;
  min?: number;
  max?: number;
}

/** A number as perfdata wants it: plain decimals (never an exponent), at most 6 places, no trailing zeros. */
export function formatNumber(n: number): string {
  const text = n.toFixed(6).replace(/\.?0+$/, '');
  return text === '-0' ? '0' : text;
}

/** Single-quoted always; a quote inside is doubled, as the guidelines say. */
function quoteLabel(label: string): string {
  return `'${label.replaceAll("'", "''")}'`;
}

export function formatPerf(p: Perf): string {
  const value = p.value === undefined || !Number.isFinite(p.value) ? 'U' : `${formatNumber(p.value)}${p.uom}`;
  const fields = [
    p.warning?.text ?? '',
    p.critical?.text ?? '',
    p.min === undefined ? '' : formatNumber(p.min),
    p.max === undefined ? '' : formatNumber(p.max),
  ];
  // The guidelines let trailing empty fields go.
  while (fields.length > 0 && fields.at(-1) === '') fields.pop();
  return [`${quoteLabel(p.label)}=${value}`, ...fields].join(';');
}

/** Plugin text on one line, without the `|` that would start perfdata. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').replaceAll('|', '¦').trim();
}

export interface PluginOutput {
  /** `FUNCTION`, `MYSQL`; absent when the call itself was wrong. */
  subject?: string;
  state: State;
  text: string;
  perf?: Perf[];
  /** Lines after the status line: the long text. */
  details?: string[];
}

/** `SYSTEMBREAKER FUNCTION OK - text | perfdata`, then the long text, one item a line. */
export function formatOutput(out: PluginOutput): string {
  const head = ['SYSTEMBREAKER', out.subject, STATE_NAMES[out.state]].filter(Boolean).join(' ');
  const perf = (out.perf ?? []).map(formatPerf).join(' ');
  const first = `${head} - ${oneLine(out.text)}${perf ? ` | ${perf}` : ''}`;
  const details = (out.details ?? []).map((d) => d.replaceAll('|', '¦'));
  return `${[first, ...details].join('\n')}\n`;
}
