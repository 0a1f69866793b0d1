import { describe, expect, it } from 'vitest';
import { TALK_RULE } from '../../contract/openfaas.ts';
import { parsePlan } from '../../contract/plan.ts';
import {
  INITIAL_STATE,
  openfaas2018,
  openfaasCe,
  type Policy,
  type PolicySettings,
  type PolicyState,
  type ScaleLabels,
  scaleUpsToMax,
} from '../../gateway/autoscale/policies.ts';
import { RateWindow } from '../../gateway/autoscale/rate.ts';
import { EDITIONS } from '../../gateway/editions.ts';
import {
  type DemoRule,
  rateAt,
  seedDemoShape,
  shares,
  TALK_DEMO,
  totalDurationS,
} from '../../loadgen/src/core/plan.ts';

const TALK_SETTINGS: PolicySettings = {
  thresholdRps: TALK_RULE.thresholdRps,
  forMs: TALK_RULE.forS * 1000,
  repeatMs: TALK_RULE.repeatS * 1000,
  scaleDownWindowMs: 30_000,
};
const TALK_LABELS = EDITIONS['openfaas-2018'].defaults;

const ruleOf = (settings: PolicySettings, windowS: number, stepsToMax: number): DemoRule => ({
  thresholdRps: settings.thresholdRps,
  windowS,
  forS: settings.forMs / 1000,
  repeatS: settings.repeatMs / 1000,
  stepsToMax,
});

/**
 * The profile's calls, each second's spread evenly over it and all answered 200, through the
 * gateway's own rate window and policy, looked at every `tickMs` on a fake clock: each
 * function's replicas at every tick.
 */
function play(
  plan: ReturnType<typeof parsePlan>,
  rule: DemoRule,
  policy: Policy,
  labels: ScaleLabels,
  settings: PolicySettings,
  tickMs = 1000,
) {
  const endMs = totalDurationS(plan, rule) * 1000;
  const fns = Object.entries(shares(plan.ratio)).filter(([, s]) => s > 0);
  const traces: Record<string, Array<{ t: number; replicas: number }>> = {};
  for (const [fn, share] of fns) {
    const window = new RateWindow();
    let sent = 0;
    let state: PolicyState = INITIAL_STATE;
    let replicas = labels.min;
    const trace: Array<{ t: number; replicas: number }> = [];
    for (let now = 0; now <= endMs; now += tickMs) {
      // Calls due up to now at the profile's rate for this function.
      let due = 0;
      for (let ms = 0; ms < now; ms += 100) due += (rateAt(plan, ms / 1000, rule) * share) / 10;
      for (; sent < Math.floor(due); sent++) window.record(now - 1, 200);
      const rates = window.rates(now, rule.windowS * 1000);
      const decision = policy({ now, replicas, ...rates }, labels, state, settings);
      replicas = decision.replicas;
      state = decision.state;
      trace.push({ t: now / 1000, replicas });
    }
    traces[fn] = trace;
  }
  return traces;
}

const first = (trace: Array<{ t: number; replicas: number }>, replicas: number) =>
  trace.find((p) => p.replicas === replicas)?.t;

describe('the seed-demo profile', () => {
  it('is shaped from the talk’s rule: both functions at twice the threshold, long enough for four scale-ups, then quiet', () => {
    expect(scaleUpsToMax(openfaas2018, TALK_LABELS, TALK_SETTINGS)).toBe(TALK_DEMO.stepsToMax);
    const shape = seedDemoShape({ rate: 0, ratio: { randstore: 1, randshow: 3 } });
    expect(shape.high).toBe(40); // randstore's quarter is 10/s
    expect(shape.low).toBe(1);
    expect(totalDurationS(parsePlan({ profile: 'seed-demo', rate: 20 }))).toBeLessThan(300);
  });

  it('under the talk’s policy takes both functions 1 → 5 → 10 → 15 → 20, holds them there, and back to 1 before it ends', () => {
    const plan = parsePlan({ profile: 'seed-demo', rate: 20, ratio: { randstore: 1, randshow: 3 } });
    const traces = play(plan, TALK_DEMO, openfaas2018, TALK_LABELS, TALK_SETTINGS);
    const end = totalDurationS(plan);
    for (const [fn, trace] of Object.entries(traces)) {
      const distinct = trace.map((p) => p.replicas).filter((r, i, all) => i === 0 || all[i - 1] !== r);
      expect(distinct, fn).toEqual([1, 5, 10, 15, 20, 1]);
      const atMax = first(trace, 20) as number;
      const back = trace.findLast((p) => p.replicas === 20)?.t as number;
      expect(back - atMax, `${fn} held at 20 for`).toBeGreaterThanOrEqual(10);
      const reset = trace.find((p) => p.t > back && p.replicas === 1)?.t as number;
      expect(end - reset, `${fn} at 1 before the end for`).toBeGreaterThanOrEqual(10);
    }
  });

  it('follows a compressed rule and Community Edition’s policy as well, from the numbers alone', () => {
    const settings: PolicySettings = {
      thresholdRps: 5,
      forMs: 1000,
      repeatMs: 3000,
      scaleDownWindowMs: 5000,
    };
    const labels: ScaleLabels = { ...EDITIONS.ce.defaults, max: 5, factor: 20 }; // +1 a firing
    const steps = scaleUpsToMax(openfaasCe, labels, settings);
    expect(steps).toBe(4);
    const rule = ruleOf(settings, 2, steps);
    const plan = parsePlan({ profile: 'seed-demo', rate: 0.1, ratio: { randstore: 1, randshow: 1 } });
    expect(totalDurationS(plan, rule)).toBeLessThan(30);
    const traces = play(plan, rule, openfaasCe, labels, settings, 250);
    for (const [fn, trace] of Object.entries(traces)) {
      const distinct = trace.map((p) => p.replicas).filter((r, i, all) => i === 0 || all[i - 1] !== r);
      expect(distinct, fn).toEqual([1, 2, 3, 4, 5, 1]);
    }
  });
});
