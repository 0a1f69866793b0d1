import { TARGET_FUNCTIONS, type TargetFunction } from '../../../contract/functions.ts';
import { type DemoRule, TALK_RULE } from '../../../contract/openfaas.ts';

export type { DemoRule };

import { DEFAULT_PLAN, type Plan, parsePlan } from '../../../contract/plan.ts';

/**
 * How a plan runs over time: each profile's stages, the rate at an instant, the shares of the
 * ratio, and plans given as text. The plan itself and its checks are in contract/plan.ts.
 */

/** One leg of a profile: the rate goes linearly to `target` over `durationS` (as k6's stages). */
export interface Stage {
  durationS: number;
  target: number;
}

/** The talk's: 5 calls/s over 10 s for 5 s, then 1 → 5 → 10 → 15 → 20 a minute apart. */
export const TALK_DEMO: DemoRule = {
  thresholdRps: TALK_RULE.thresholdRps,
  windowS: TALK_RULE.windowS,
  forS: TALK_RULE.forS,
  repeatS: TALK_RULE.repeatS,
  stepsToMax: Math.ceil(TALK_RULE.maxReplicas / TALK_RULE.step),
};

/** The whole scaling story: the peak rate it needs and how long each act lasts. */
export function seedDemoShape(plan: Pick<Plan, 'rate' | 'ratio'>, rule: DemoRule = TALK_DEMO) {
  const weighted = Object.values(shares(plan.ratio)).filter((s) => s > 0);
  const smallest = weighted.length ? Math.min(...weighted) : 1;
  // Every function of the load at twice the threshold, so each alert fires and keeps firing.
  const high = Math.max(plan.rate, Math.ceil((2 * rule.thresholdRps) / smallest));
  // Quiet enough that every function is under the threshold, so each alert resolves.
  const low = Math.min(1, rule.thresholdRps / 2);
  const detectS = rule.windowS + rule.forS; // from a rate above the threshold to the first firing
  return {
    high,
    low,
    rampS: Math.max(1, detectS),
    // The first firing, a repeat for each further step to max, and as long again at max.
    holdS: detectS + (rule.stepsToMax - 1) * rule.repeatS + Math.max(1, detectS),
    downS: Math.max(1, rule.forS),
    // The window empties (the alert resolves, replicas go back to min) and the connections drain.
    quietS: Math.max(3, 3 * rule.windowS),
  };
}

/** The shape of each profile; seed-demo ignores durationS: its length is what autoscaling needs. */
export function stagesFor(
  plan: Pick<Plan, 'rate' | 'profile' | 'durationS' | 'ratio'>,
  rule: DemoRule = TALK_DEMO,
): {
  startRate: number;
  stages: Stage[];
} {
  const { rate } = plan;
  const d = plan.durationS > 0 ? plan.durationS : 60;
  switch (plan.profile) {
    case 'constant':
      return { startRate: rate, stages: [{ durationS: d, target: rate }] };
    case 'ramp':
      return {
        startRate: 0,
        stages: [
          { durationS: Math.round(d * 0.8), target: rate },
          { durationS: d - Math.round(d * 0.8), target: rate },
        ],
      };
    case 'spike': {
      const base = rate / 5;
      const quiet = Math.round(d * 0.4);
      const edge = Math.max(1, Math.round(d * 0.02));
      const peak = d - 2 * quiet - 2 * edge;
      return {
        startRate: base,
        stages: [
          { durationS: quiet, target: base },
          { durationS: edge, target: rate },
          { durationS: Math.max(peak, 1), target: rate },
          { durationS: edge, target: base },
          { durationS: quiet, target: base },
        ],
      };
    }
    case 'seed-demo': {
      const shape = seedDemoShape(plan, rule);
      return {
        startRate: shape.low,
        stages: [
          { durationS: shape.rampS, target: shape.high },
          { durationS: shape.holdS, target: shape.high },
          { durationS: shape.downS, target: shape.low },
          { durationS: shape.quietS, target: shape.low },
        ],
      };
    }
  }
}

export function totalDurationS(plan: Plan, rule: DemoRule = TALK_DEMO): number {
  if (plan.profile === 'constant' && plan.durationS === 0) return Number.POSITIVE_INFINITY;
  return stagesFor(plan, rule).stages.reduce((s, st) => s + st.durationS, 0);
}

/** The total rate at `tS` seconds into the plan: piecewise linear through the stages. */
export function rateAt(plan: Plan, tS: number, rule: DemoRule = TALK_DEMO): number {
  if (plan.profile === 'constant') return plan.durationS === 0 || tS < plan.durationS ? plan.rate : 0;
  const { startRate, stages } = stagesFor(plan, rule);
  let from = startRate;
  let t0 = 0;
  for (const st of stages) {
    if (tS < t0 + st.durationS) return from + ((st.target - from) * (tS - t0)) / st.durationS;
    t0 += st.durationS;
    from = st.target;
  }
  return 0;
}

/** Each function's share of the total rate. */
export function shares(ratio: Record<string, number>): Record<string, number> {
  const total = Object.values(ratio).reduce((a, b) => a + Math.max(0, b), 0);
  return Object.fromEntries(
    Object.entries(ratio).map(([fn, w]) => [fn, total > 0 ? Math.max(0, w) / total : 0]),
  );
}

/** Parses "randstore=1,randshow=3" or "1:3" (randstore:randshow). */
export function parseRatio(text: string): Record<TargetFunction, number> {
  const bad = () =>
    new Error(`ratio must look like randstore=1,randshow=3 or 1:3; got ${JSON.stringify(text)}`);
  const out: Record<TargetFunction, number> = { randstore: 0, randshow: 0 };
  if (/^\s*\d+(\.\d+)?\s*:\s*\d+(\.\d+)?\s*$/.test(text)) {
    const [a, b] = text.split(':').map(Number);
    out.randstore = a as number;
    out.randshow = b as number;
  } else {
    for (const part of text.split(',')) {
      const [k, v] = part.split('=').map((s) => s.trim());
      if (!TARGET_FUNCTIONS.includes(k as TargetFunction) || v === undefined || !/^\d+(\.\d+)?$/.test(v))
        throw bad();
      out[k as TargetFunction] = Number(v);
    }
  }
  return out; // all weights 0 is the plan's business: parsePlan says why it sends nothing
}

/** Parses "60s", "2m", "1h", "90" (seconds). */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new Error(`duration must look like 30s, 5m or 1h; got ${JSON.stringify(text)}`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return unit === 'ms' ? n / 1000 : unit === 'm' ? n * 60 : unit === 'h' ? n * 3600 : n;
}

/** A plan as text: CLI flags, k6 `-e` variables. Unset parts take the defaults. */
export interface PlanText {
  rate?: string | undefined;
  ratio?: string | undefined;
  profile?: string | undefined;
  strategy?: string | undefined;
  duration?: string | undefined;
}

/** Parses and checks a plan given as text; the error names the bad part. */
export function planFromText(t: PlanText): Plan {
  if (t.rate !== undefined && !Number.isFinite(Number(t.rate))) {
    // Not a number at all: say so with the text given, not with NaN.
    return parsePlan({ rate: t.rate });
  }
  return parsePlan({
    rate: t.rate === undefined ? DEFAULT_PLAN.rate : Number(t.rate),
    ratio: t.ratio ? parseRatio(t.ratio) : DEFAULT_PLAN.ratio,
    profile: t.profile ?? DEFAULT_PLAN.profile,
    strategy: t.strategy ?? DEFAULT_PLAN.strategy,
    durationS: t.duration ? parseDuration(t.duration) : DEFAULT_PLAN.durationS,
  });
}
