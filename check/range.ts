import { CRITICAL, OK, type State, usageError, WARNING } from './state.ts';

/**
 * A threshold range as the Monitoring Plugins guidelines define it: `10` alerts outside 0..10,
 * `10:` below 10, `~:10` above 10, `10:20` outside 10..20, `@10:20` inside 10..20. The ends
 * belong to the range, so a value equal to an end never alerts (or, with `@`, always does).
 */
export interface Range {
  /** As given: perfdata repeats it. */
  text: string;
  start: number;
  end: number;
  /** `@`: alert when the value is inside, not outside. */
  inside: boolean;
}

export const RANGE_FORMS =
  'N (outside 0..N), N: (below N), ~:N (above N), N:M (outside N..M), @N:M (inside N..M)';

/** Plain decimals, as the guidelines' [-0-9.] allows: no exponent, no Infinity. */
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

/** Parses the range given to `option`; a malformed one is an UNKNOWN that names both. */
export function parseRange(option: string, text: string): Range {
  const bad = (why: string) =>
    usageError(`${option} ${JSON.stringify(text)} is not a threshold range: ${why}. Ranges: ${RANGE_FORMS}`);
  const inside = text.startsWith('@');
  const body = inside ? text.slice(1) : text;
  if (body === '') throw bad('it is empty');
  const parts = body.split(':');
  if (parts.length > 2) throw bad('it has more than one colon');
  const number = (part: string) => {
    if (!NUMBER.test(part)) throw bad(`${JSON.stringify(part)} is not a number`);
    return Number(part);
  };
  const [first = '', second] = parts;
  let start = 0;
  let end = Number.POSITIVE_INFINITY;
  if (second === undefined) {
    end = number(first);
  } else {
    if (first === '~') start = Number.NEGATIVE_INFINITY;
    else if (first !== '') start = number(first);
    if (second !== '') end = number(second);
  }
  if (start > end) throw bad(`its start ${start} is above its end ${end}`);
  return { text, start, end, inside };
}

/** Whether `value` raises the alert of `range`; a value that could not be measured never does. */
export function alerts(range: Range, value: number | undefined): boolean {
  if (value === undefined || Number.isNaN(value)) return false;
  const outside = value < range.start || value > range.end;
  return range.inside ? !outside : outside;
}

export interface Thresholds {
  warning?: Range;
  critical?: Range;
}

/** CRITICAL when the critical range alerts, else WARNING when the warning range does, else OK. */
export function stateOf(value: number | undefined, thresholds: Thresholds): State {
  if (thresholds.critical && alerts(thresholds.critical, value)) return CRITICAL;
  if (thresholds.warning && alerts(thresholds.warning, value)) return WARNING;
  return OK;
}
