import * as z from 'zod/mini';
import { STRATEGIES, type Strategy, TARGET_FUNCTIONS, type TargetFunction } from './functions.ts';

// zod/mini rather than zod: the plan's schema is bundled into the browser app and the k6
// script, where the full zod would weigh several times more.

/** The shapes a run's rate can take over time (their stages are in the load core). */
export const PROFILES = ['constant', 'ramp', 'spike', 'seed-demo'] as const;
export type Profile = (typeof PROFILES)[number];

/** What to send: a total rate, how it splits between functions, for how long, in what shape. */
export interface Plan {
  /** Total requests per second at the plan's peak (the held rate of a profile). */
  rate: number;
  /** Weights per function; e.g. { randstore: 1, randshow: 3 }. */
  ratio: Record<TargetFunction, number>;
  /** randshow's ?strategy=. */
  strategy: Strategy;
  profile: Profile;
  /** Total length in seconds; 0 = until stopped (constant profile only). */
  durationS: number;
}

/** What can change while a run goes: applied at once by every engine. */
export type PlanChange = Partial<Pick<Plan, 'rate' | 'ratio' | 'strategy'>>;

export const DEFAULT_PLAN: Plan = {
  rate: 20,
  ratio: { randstore: 1, randshow: 3 },
  strategy: 'order-by-rand',
  profile: 'constant',
  durationS: 60,
};

export const MAX_RATE = 100_000;
export const MAX_DURATION_S = 86_400;

/** Each field's schema and, for messages, what it allows. */
const FIELDS = {
  rate: {
    schema: z.number().check(z.minimum(0), z.maximum(MAX_RATE)),
    allowed: `a number from 0 to ${MAX_RATE} requests/s`,
  },
  ratio: {
    schema: z.partialRecord(z.enum(TARGET_FUNCTIONS), z.number().check(z.minimum(0))),
    allowed: `weights ≥ 0 for ${TARGET_FUNCTIONS.join(', ')}, e.g. {"randstore":1,"randshow":3}`,
  },
  strategy: { schema: z.enum(STRATEGIES), allowed: `one of ${STRATEGIES.join(', ')}` },
  profile: { schema: z.enum(PROFILES), allowed: `one of ${PROFILES.join(', ')}` },
  durationS: {
    schema: z.number().check(z.minimum(0), z.maximum(MAX_DURATION_S)),
    allowed: `from 0 to ${MAX_DURATION_S} s`,
  },
} as const;

type Field = keyof typeof FIELDS;
const NAMES: Record<Field, string> = {
  rate: 'rate',
  ratio: 'ratio',
  strategy: 'strategy',
  profile: 'profile',
  durationS: 'duration',
};

const planInput = z.partial(
  z.object({
    rate: FIELDS.rate.schema,
    ratio: FIELDS.ratio.schema,
    strategy: FIELDS.strategy.schema,
    profile: FIELDS.profile.schema,
    durationS: FIELDS.durationS.schema,
  }),
);
const changeInput = z.strictObject({
  rate: z.optional(FIELDS.rate.schema),
  ratio: z.optional(FIELDS.ratio.schema),
  strategy: z.optional(FIELDS.strategy.schema),
});

/** A plan or a change that does not hold, naming the first field that is wrong. */
export class PlanError extends Error {
  override readonly name = 'PlanError';
  readonly code = 'BAD_REQUEST';
}

function check<T>(schema: z.ZodMiniType<T>, input: unknown): T {
  const parsed = schema.safeParse(input ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue?.path[0] as Field | undefined;
  if (!field || !(field in FIELDS)) {
    const what =
      issue?.code === 'unrecognized_keys' ? `unknown field ${issue.keys.join(', ')}` : 'not an object';
    throw new PlanError(`a plan is {rate, ratio, strategy, profile, durationS}; got ${what}`);
  }
  const got = (input as Record<string, unknown>)[field];
  throw new PlanError(`${NAMES[field]} must be ${FIELDS[field].allowed}; got ${JSON.stringify(got)}`);
}

/** Applies a change (or any part of a plan): the one way a plan is merged, in every engine and the app. */
export function mergePlan(plan: Plan, change: Partial<Plan>): Plan {
  return { ...plan, ...change, ratio: { ...plan.ratio, ...change.ratio } };
}

/** A plan's fields from outside, checked and unset ones defaulted (a plan being edited, a saved one). */
export function checkPlan(input: unknown): Plan {
  return mergePlan(DEFAULT_PLAN, check(planInput, input) as Partial<Plan>);
}

/** Why a plan would send nothing (k6 refuses a script with no scenario), if it would. */
export function noTrafficProblem(plan: Plan): string | undefined {
  if (plan.rate <= 0) return 'rate must be above 0 requests/s: a plan with no traffic sends nothing';
  if (TARGET_FUNCTIONS.every((fn) => plan.ratio[fn] <= 0))
    return `ratio must give some weight to ${TARGET_FUNCTIONS.join(' or ')}: all weights are 0`;
  return undefined;
}

/**
 * A plan to run, from outside (CLI, HTTP body, k6 variables, an export): its fields checked,
 * unset ones defaulted, and refused if it would send nothing. A change may still dial a
 * running plan down to 0: that pauses it.
 */
export function parsePlan(input: unknown): Plan {
  const plan = checkPlan(input);
  const problem = noTrafficProblem(plan);
  if (problem) throw new PlanError(problem);
  return plan;
}

/** A change from outside (the live API, the dial), checked. */
export function parsePlanChange(input: unknown): PlanChange {
  return check(changeInput, input) as PlanChange;
}
