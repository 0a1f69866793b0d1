import type { Plan } from './plan.ts';

/** How a call ended, by class: `net` is no HTTP answer at all (refused, reset, timed out). */
export const STATUS_CLASSES = ['2xx', '3xx', '4xx', '5xx', 'net'] as const;
export type StatusClass = (typeof STATUS_CLASSES)[number];

/** What was sent to one function, what came back, and how long it took, over some span. */
export interface Counts {
  fn: string;
  sent: number;
  completed: number;
  dropped: number;
  byClass: Record<StatusClass, number>;
  byCode: Record<string, number>;
  /** Latency from the intended send time, ms. */
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
}

/** One function's second. */
export interface SecondStats extends Counts {
  /** Seconds since the run started. */
  t: number;
  /** Requests/s the plan asked of this function in this second. */
  dialled: number;
}

/** One function's whole run. */
export interface FunctionSummary extends Counts {
  /** Completed requests per second over the run. */
  rate: number;
}

export const ENGINES = ['browser', 'server', 'node', 'k6'] as const;
export type EngineName = (typeof ENGINES)[number];

/** What a run exports: the same shape from the browser app (JSON) and `npm run load --out`. */
export interface RunResults {
  version: 1;
  engine: EngineName;
  target: string;
  plan: Plan;
  startedAt: string;
  seconds: SecondStats[];
  summary: FunctionSummary[];
}
