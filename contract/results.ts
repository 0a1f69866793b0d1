import * as z from 'zod/mini';
import { checkPlan, type Plan } from './plan.ts';

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

/** One function as `/system/functions` showed it. */
export interface FunctionSample {
  replicas: number;
  /** Replicas ready to serve (`availableReplicas`). */
  ready: number;
  /** CPU of all its replicas in millicores (`usage.cpu`), where the provider reports it. */
  cpu?: number;
}

/** The database as dbstats showed it. */
export interface DbSample {
  threadsConnected: number;
  queriesRunning: number;
  maxConnections: number;
  rows: number;
  blobBytes: number;
}

/**
 * What the stack looked like at one moment of a run: the replicas from `/system/functions`
 * (every second) or the database from dbstats (every two), whichever answered then.
 */
export interface SystemSample {
  /** Seconds since the run started (fractional: polls do not fall on the second). */
  t: number;
  functions?: Record<string, FunctionSample>;
  db?: DbSample;
}

export const NOTE_KINDS = ['load', 'scale', 'errors', 'status'] as const;

/** One line of a run's story, as `npm run demo` tells it: the load's phases, scaling, first errors. */
export interface RunNote {
  /** Seconds since the run started. */
  t: number;
  kind: (typeof NOTE_KINDS)[number];
  /** The function it is about, if one. */
  fn?: string;
  text: string;
}

/** What a run exports: the same shape from the browser app (JSON) and `npm run load --out`. */
export interface RunResults {
  version: 1;
  engine: EngineName;
  target: string;
  plan: Plan;
  startedAt: string;
  seconds: SecondStats[];
  summary: FunctionSummary[];
  /** The stack during the run, where the engine could read it (absent from k6's). */
  system?: SystemSample[];
  /** The run's story, where it was told (`npm run demo`, the app's demo). */
  notes?: RunNote[];
}

const count = z.number().check(z.minimum(0));
const countsShape = {
  fn: z.string(),
  sent: count,
  completed: count,
  dropped: count,
  byClass: z.record(z.enum(STATUS_CLASSES), count),
  byCode: z.record(z.string(), count),
  p50: count,
  p90: count,
  p95: count,
  p99: count,
  max: count,
};
const runResultsSchema = z.object({
  version: z.literal(1),
  engine: z.enum(ENGINES),
  target: z.string(),
  plan: z.unknown(),
  startedAt: z.iso.datetime({ offset: true }),
  seconds: z.array(z.object({ ...countsShape, t: count, dialled: count })),
  summary: z.array(z.object({ ...countsShape, rate: count })),
  system: z.optional(
    z.array(
      z.object({
        t: z.number(),
        functions: z.optional(
          z.record(z.string(), z.object({ replicas: count, ready: count, cpu: z.optional(count) })),
        ),
        db: z.optional(
          z.object({
            threadsConnected: count,
            queriesRunning: count,
            maxConnections: count,
            rows: count,
            blobBytes: count,
          }),
        ),
      }),
    ),
  ),
  notes: z.optional(
    z.array(
      z.object({ t: z.number(), kind: z.enum(NOTE_KINDS), fn: z.optional(z.string()), text: z.string() }),
    ),
  ),
});

/** Exported results that do not hold, naming the first field that is wrong. */
export class ResultsError extends Error {
  override readonly name = 'ResultsError';
}

/** A run's results from outside (a file someone exported), checked. */
export function parseRunResults(input: unknown): RunResults {
  const parsed = runResultsSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = (issue?.path ?? [])
      .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
      .join('');
    throw new ResultsError(
      `not a SystemBreaker run's results: ${where ? `${where.replace(/^\./, '')}: ` : ''}${issue?.message}`,
    );
  }
  try {
    return { ...parsed.data, plan: checkPlan(parsed.data.plan) } as RunResults;
  } catch (err) {
    throw new ResultsError(`not a SystemBreaker run's results: plan: ${(err as Error).message}`);
  }
}
