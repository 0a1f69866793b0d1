import type { Answer } from '../../../contract/engine.ts';
import { TARGET_FUNCTIONS } from '../../../contract/functions.ts';
import { type Plan, parsePlan } from '../../../contract/plan.ts';
import { planFromText, shares, stagesFor } from './plan.ts';

/** SLOs per function that k6's thresholds enforce (p95 of http_req_duration, ms). */
export const P95_SLO_MS: Record<string, number> = { randstore: 2000, randshow: 1000 };
/** A run fails when more than this share of requests fail… */
export const MAX_FAILED_RATE = 0.01;
/** …or more than this share of planned iterations could not be started in time. */
export const MAX_DROPPED_SHARE = 0.01;
/** k6 wants whole numbers of iterations per time unit: per minute keeps 1/60 req/s of precision. */
const PER = 60;
/** A constant plan without a duration runs this long under k6 (which needs one). */
const UNBOUNDED_S = 3600;

export interface K6Scenario {
  executor: 'ramping-arrival-rate';
  exec: string;
  startRate: number;
  timeUnit: '1m';
  preAllocatedVUs: number;
  maxVUs: number;
  stages: Array<{ duration: string; target: number }>;
  tags: Record<string, string>;
}

export interface K6Options {
  scenarios: Record<string, K6Scenario>;
  thresholds: Record<string, string[]>;
  summaryTrendStats: string[];
}

/** At least `n` and a multiple of it: every k6-operator runner gets its share of the VUs. */
const perRunner = (vus: number, n: number) => Math.max(n, Math.ceil(vus / n) * n);

/**
 * The k6 options of a plan: one arrival-rate scenario per function at its share of the rate.
 * With `parallelism` runners (the k6-operator), k6 gives each an execution segment of every
 * scenario: its share of the rate and of the VUs, so the total rate stays the one dialled. A
 * runner whose segment has no VU has no work, so the VUs are a multiple of the runners.
 */
export function k6Options(plan: Plan, parallelism = 1): K6Options {
  const bounded: Plan =
    plan.profile === 'constant' && plan.durationS === 0 ? { ...plan, durationS: UNBOUNDED_S } : plan;
  const { startRate, stages } = stagesFor(bounded);
  const share = shares(plan.ratio);
  const scenarios: Record<string, K6Scenario> = {};
  let planned = 0;
  let from = startRate;
  for (const st of stages) {
    planned += ((from + st.target) / 2) * st.durationS;
    from = st.target;
  }
  for (const fn of TARGET_FUNCTIONS) {
    const s = share[fn] ?? 0;
    if (s <= 0) continue;
    const peak = Math.max(startRate, ...stages.map((st) => st.target)) * s;
    scenarios[fn] = {
      executor: 'ramping-arrival-rate',
      exec: fn,
      startRate: Math.round(startRate * s * PER),
      timeUnit: '1m',
      // Enough VUs for the peak at 0.5 s per call, and room for calls 10× slower.
      preAllocatedVUs: perRunner(Math.ceil(peak * 0.5) + 5, parallelism),
      maxVUs: perRunner(Math.ceil(peak * 5) + 50, parallelism),
      stages: stages.map((st) => ({ duration: `${st.durationS}s`, target: Math.round(st.target * s * PER) })),
      tags: { fn },
    };
  }
  const thresholds: Record<string, string[]> = {
    http_req_failed: [`rate<${MAX_FAILED_RATE}`],
    dropped_iterations: [`count<${Math.max(1, Math.ceil(planned * MAX_DROPPED_SHARE))}`],
  };
  for (const fn of Object.keys(scenarios))
    thresholds[`http_req_duration{fn:${fn}}`] = [`p(95)<${P95_SLO_MS[fn]}`];
  return {
    scenarios,
    thresholds,
    summaryTrendStats: ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max'],
  };
}

/** A plan as k6's `-e` variables: what planFromEnv reads back. */
export function planToEnv(
  plan: Plan,
): Record<'RATE' | 'RATIO' | 'PROFILE' | 'DURATION' | 'STRATEGY', string> {
  return {
    RATE: String(plan.rate),
    RATIO: TARGET_FUNCTIONS.map((fn) => `${fn}=${plan.ratio[fn]}`).join(','),
    PROFILE: plan.profile,
    DURATION: `${plan.durationS}s`,
    STRATEGY: plan.strategy,
  };
}

/** The plan from k6's `-e` variables (RATE, RATIO, PROFILE, DURATION, STRATEGY); a bad one stops the run. */
export function planFromEnv(env: Record<string, string | undefined>): Plan {
  return planFromText({
    rate: env.RATE,
    ratio: env.RATIO,
    profile: env.PROFILE,
    strategy: env.STRATEGY,
    duration: env.DURATION,
  });
}

/** Marks the line a k6 script export puts its plan on. */
export const BAKED_PLAN_MARKER = '// systembreaker: plan baked in by "export as k6 script"';

/**
 * The committed k6 script with a plan baked in (the browser's "export as k6 script"):
 * the plan is set before the bundle runs; -e BASE_URL still picks the target.
 */
export function bakePlan(script: string, plan: Plan): string {
  return `${BAKED_PLAN_MARKER}\nglobalThis.SYSTEMBREAKER_PLAN = ${JSON.stringify(parsePlan(plan))};\n${script}`;
}

/**
 * k6's error codes for a request that ran out of time: 1050 "request timeout" and 1211 "dial
 * timeout" (k6 lib/netext/httpext/error_codes.go); any other status-0 answer is a network failure.
 */
const K6_TIMEOUT_CODES = [1050, 1211];

/** A k6 response as the engines' shared classification (contract/engine.ts outcomeCode) reads it. */
export function answerOf(res: { status: number; error_code: number; body: unknown }): Answer {
  if (res.status === 0) return { failure: K6_TIMEOUT_CODES.includes(res.error_code) ? 'timeout' : 'network' };
  return { status: res.status, body: typeof res.body === 'string' ? res.body : '' };
}
