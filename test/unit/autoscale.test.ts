import { describe, expect, it } from 'vitest';
import {
  INITIAL_STATE,
  type Observation,
  off,
  openfaas2018,
  openfaasCe,
  type Policy,
  type PolicySettings,
  type PolicyState,
  rpsTarget,
  type ScaleLabels,
} from '../../gateway/autoscale/policies.ts';
import { RateWindow } from '../../gateway/autoscale/rate.ts';
import { EDITIONS } from '../../gateway/editions.ts';

const LABELS: ScaleLabels = { min: 1, max: 20, factor: 20, target: 50, targetProportion: 0.9 };
const SETTINGS: PolicySettings = {
  thresholdRps: 5,
  forMs: 5_000,
  repeatMs: 60_000,
  scaleDownWindowMs: 30_000,
};

/**
 * Drives a policy with a fake clock, one tick a second, for a load given as a function of
 * time, and returns the replica count at each second.
 */
function simulate(
  policy: Policy,
  load: (second: number) => number,
  seconds: number,
  labels = LABELS,
  settings = SETTINGS,
): number[] {
  let replicas = labels.min;
  let state: PolicyState = INITIAL_STATE;
  const trace: number[] = [];
  for (let s = 0; s < seconds; s++) {
    const rate = load(s);
    const obs: Observation = { now: s * 1000, replicas, rate200: rate, rate };
    const decision = policy(obs, labels, state, settings);
    replicas = decision.replicas;
    state = decision.state;
    trace.push(replicas);
  }
  return trace;
}

/** The distinct values a trace went through, with the second each began. */
function steps(trace: number[]): Array<[number, number]> {
  return trace.flatMap((r, s) => (s === 0 || trace[s - 1] !== r ? [[s, r] as [number, number]] : []));
}

describe('openfaas-2018 policy', () => {
  it('at a sustained 10 calls/s goes 1 → 5 → 10 → 15 → 20 a minute apart, and back to 1 at once when the rate drops', () => {
    const trace = simulate(openfaas2018, (s) => (s < 250 ? 10 : 0), 260);
    expect(steps(trace)).toEqual([
      [0, 1],
      [5, 5],
      [65, 10],
      [125, 15],
      [185, 20],
      [250, 1],
    ]);
  });

  it('does not fire at 5 calls/s or below (the rule is > 5)', () => {
    expect(new Set(simulate(openfaas2018, () => 5, 120))).toEqual(new Set([1]));
  });

  it('does not fire for a burst shorter than the alert’s 5 s', () => {
    expect(new Set(simulate(openfaas2018, (s) => (s < 4 ? 50 : 0), 30))).toEqual(new Set([1]));
  });

  it('says how many replicas each firing added', () => {
    const settings = { ...SETTINGS, forMs: 0 };
    const fired = openfaas2018(
      { now: 0, replicas: 1, rate200: 10, rate: 10 },
      LABELS,
      INITIAL_STATE,
      settings,
    );
    expect(fired).toMatchObject({ replicas: 5, reason: 'APIHighInvocationRate fired: +4' });
  });

  it('stops at the max label', () => {
    const trace = simulate(openfaas2018, () => 100, 300, { ...LABELS, max: 12 });
    expect(Math.max(...trace)).toBe(12);
  });
});

describe('openfaas-ce policy', () => {
  const CE_SETTINGS = { ...SETTINGS, repeatMs: 30_000 };

  it('adds ceil(max × factor / 100) per firing up to max, then returns to min when resolved', () => {
    const labels = { ...LABELS, max: 5, factor: 50 };
    const trace = simulate(openfaasCe, (s) => (s < 200 ? 20 : 0), 210, labels, CE_SETTINGS);
    expect(steps(trace)).toEqual([
      [0, 1],
      [5, 4],
      [35, 5],
      [200, 1],
    ]);
  });

  it('never runs more than 5 replicas, whatever the max label says, and steps from the capped max', () => {
    // max 20 × factor 20 % would be +4; CE caps max at 5 first, so each firing adds 1.
    const trace = simulate(openfaasCe, (s) => (s < 200 ? 20 : 0), 210, LABELS, CE_SETTINGS);
    expect(steps(trace)).toEqual([
      [0, 1],
      [5, 2],
      [35, 3],
      [65, 4],
      [95, 5],
      [200, 1],
    ]);
  });

  it('with CE’s defaults (max 5, factor 10) adds one replica per firing', () => {
    const trace = simulate(openfaasCe, () => 20, 40, EDITIONS.ce.defaults, CE_SETTINGS);
    expect(steps(trace)).toEqual([
      [0, 1],
      [5, 2],
      [35, 3],
    ]);
  });

  it('scales to the cap in one step with factor 100; with factor 0 the alert changes nothing, not even on resolve', () => {
    expect(simulate(openfaasCe, () => 20, 10, { ...LABELS, factor: 100 }).at(-1)).toBe(5);
    const d = openfaasCe(
      { now: 0, replicas: 3, rate200: 0, rate: 0 },
      { ...LABELS, factor: 0 },
      { firing: true, pendingSince: 0, lastScaleAt: 0 },
      SETTINGS,
    );
    expect(d.replicas).toBe(3);
    expect(new Set(simulate(openfaasCe, () => 20, 100, { ...LABELS, factor: 0 }))).toEqual(new Set([1]));
  });

  it('counts only successful calls: a function failing at 50 calls/s is not scaled', () => {
    let state: PolicyState = INITIAL_STATE;
    let replicas = 1;
    for (let s = 0; s < 30; s++) {
      const d = openfaasCe({ now: s * 1000, replicas, rate200: 0, rate: 50 }, LABELS, state, SETTINGS);
      replicas = d.replicas;
      state = d.state;
    }
    expect(replicas).toBe(1);
  });
});

describe('rps-target policy', () => {
  it('sizes replicas as ceil(load ÷ (target × proportion)) at once on the way up', () => {
    const trace = simulate(rpsTarget, (s) => (s < 10 ? 100 : 400), 12);
    expect(trace[0]).toBe(3); // 100 ÷ 45
    expect(trace[10]).toBe(9); // 400 ÷ 45
  });

  it('scales down only after the load stayed low for the stabilisation window', () => {
    const trace = simulate(rpsTarget, (s) => (s < 10 ? 400 : 10), 60);
    expect(trace[9]).toBe(9);
    expect(trace[38]).toBe(9);
    expect(trace[41]).toBe(1);
  });

  it('stays within min and max', () => {
    expect(simulate(rpsTarget, () => 0, 3, { ...LABELS, min: 2 })).toEqual([2, 2, 2]);
    expect(simulate(rpsTarget, () => 1e6, 3).at(-1)).toBe(20);
  });
});

describe('off policy', () => {
  it('keeps whatever replicas were set by hand', () => {
    expect(
      off({ now: 0, replicas: 7, rate200: 1000, rate: 1000 }, LABELS, INITIAL_STATE, SETTINGS).replicas,
    ).toBe(7);
  });
});

describe('rate window', () => {
  it('reads per-second rates over a window from whole past seconds', () => {
    const w = new RateWindow();
    for (let s = 0; s < 20; s++) {
      for (let i = 0; i < 10; i++) w.record(s * 1000 + i * 50, i < 6 ? 200 : 503);
    }
    expect(w.rates(20_000, 10_000)).toEqual({ rate200: 6, rate: 10 });
    expect(w.rates(25_000, 10_000)).toEqual({ rate200: 3, rate: 5 });
    expect(w.rates(40_000, 10_000)).toEqual({ rate200: 0, rate: 0 });
  });

  it('forgets seconds older than its span', () => {
    const w = new RateWindow(5);
    w.record(0, 200);
    w.record(10_000, 200);
    expect(w.rates(11_000, 20_000).rate).toBeCloseTo(1 / 20);
  });
});
