import { describe, expect, it } from 'vitest';
import { type Plan, parsePlan } from '../../contract/plan.ts';
import { bakePlan, k6Options, planFromEnv } from '../../loadgen/src/core/k6.ts';
import { OpenLoop } from '../../loadgen/src/core/open-loop.ts';
import { RatioPicker } from '../../loadgen/src/core/picker.ts';
import { parseDuration, parseRatio, rateAt, stagesFor } from '../../loadgen/src/core/plan.ts';
import { Recorder } from '../../loadgen/src/core/recorder.ts';
import { toCsv } from '../../loadgen/src/core/results.ts';
import { Scheduler } from '../../loadgen/src/core/scheduler.ts';

describe('scheduler', () => {
  it('gives exact send times for a rate, the first at once', () => {
    const s = new Scheduler(4, 1000);
    expect(s.due(2000)).toEqual([1000, 1250, 1500, 1750, 2000]);
    expect(s.due(2100)).toEqual([]);
  });

  it('sends exactly rate × duration over a long run, whatever the tick', () => {
    const s = new Scheduler(333, 0);
    let n = 0;
    for (let t = 0; t < 10_000; t += 7) n += s.due(t).length;
    n += s.due(9_999.999).length; // everything intended before the 10 s mark
    expect(n).toBe(3330);
    expect(s.due(10_000)).toEqual([10_000]); // the first of the next 10 s, exactly on time
  });

  it('follows a rate change at once, keeping the share of the interval already waited', () => {
    const s = new Scheduler(10, 0); // sends at 0, 100, 200 …
    expect(s.due(150)).toEqual([0, 100]);
    s.setRate(20, 150); // half of the 100 ms interval left → 25 ms at the new rate
    expect(s.due(260)).toEqual([175, 225]);
    s.setRate(0, 260);
    expect(s.due(10_000)).toEqual([]);
    s.setRate(1, 10_000);
    expect(s.due(12_000)).toEqual([10_000, 11_000, 12_000]);
  });
});

describe('open loop', () => {
  function run(ticks: number[], maxInFlight = 1e9) {
    let clock = 0;
    const sent: Array<[string, number]> = [];
    const loop = new OpenLoop({
      plan: parsePlan({ rate: 500, durationS: 5, ratio: { randstore: 1, randshow: 3 } }),
      now: () => clock,
      maxInFlight,
      send: (fn, t) => sent.push([fn, t]),
    });
    for (const t of ticks) {
      clock = t;
      loop.tick();
    }
    return { loop, sent };
  }

  it('sends exactly rate × duration in the plan’s ratio, even when the last tick comes late', () => {
    const ticks = [...Array.from({ length: 700 }, (_, i) => i * 7), 5_003, 6_000];
    const { loop, sent } = run(ticks);
    expect(sent).toHaveLength(2500);
    expect(sent.filter(([fn]) => fn === 'randstore')).toHaveLength(625);
    expect(Math.max(...sent.map(([, t]) => t))).toBeLessThan(5000);
    expect(loop.finished).toBe(true);
  });

  it('drops and counts the sends that fall due at the in-flight cap', () => {
    const { loop, sent } = run([0, 1000], 10);
    expect(sent).toHaveLength(10);
    const [store, show] = loop.recorder.summary(1000);
    expect((store?.dropped ?? 0) + (show?.dropped ?? 0)).toBe(491);
  });
});

describe('ratio picker', () => {
  it.each([
    [{ randstore: 1, randshow: 3 }],
    [{ randstore: 2, randshow: 5 }],
    [{ randstore: 7, randshow: 1 }],
    [{ randstore: 0.5, randshow: 1.5 }],
  ])('is exact over any window of one full cycle (%o)', (weights) => {
    const picker = new RatioPicker<'randstore' | 'randshow'>(weights);
    const picks = Array.from({ length: picker.cycle * 5 }, () => picker.next());
    const expected = picker.cycle * (weights.randstore / (weights.randstore + weights.randshow));
    for (let start = 0; start + picker.cycle <= picks.length; start++) {
      const window = picks.slice(start, start + picker.cycle);
      expect(window.filter((p) => p === 'randstore')).toHaveLength(expected);
    }
  });

  it('spreads picks instead of sending runs', () => {
    const picker = new RatioPicker({ a: 1, b: 1 });
    expect(Array.from({ length: 6 }, () => picker.next())).toEqual(['a', 'b', 'a', 'b', 'a', 'b']);
  });

  it('takes new weights at once and skips zero weights', () => {
    const picker = new RatioPicker<'a' | 'b'>({ a: 1, b: 1 });
    picker.setWeights({ a: 0, b: 1 });
    expect(Array.from({ length: 3 }, () => picker.next())).toEqual(['b', 'b', 'b']);
  });
});

describe('recorder', () => {
  it('reports percentiles of latency measured from the intended send time', () => {
    const r = new Recorder(['randshow'], 0);
    // 100 requests intended at t = 0…99 ms, latencies 1…100 ms.
    for (let i = 1; i <= 100; i++) {
      r.sent('randshow', i - 1);
      r.complete({ fn: 'randshow', intendedMs: i - 1, endMs: i - 1 + i, status: 200 });
    }
    const [s] = r.summary(1000);
    expect(s).toMatchObject({ sent: 100, completed: 100, byClass: { '2xx': 100 } });
    expect(s?.p50).toBeCloseTo(50, 0);
    expect(s?.p90).toBeCloseTo(90, 0);
    expect(s?.p99).toBeCloseTo(99, 0);
    expect(s?.max).toBeCloseTo(100, 0);
  });

  it('counts status classes, error codes and drops per second, and closes each second once', () => {
    const r = new Recorder(['randstore', 'randshow'], 0);
    r.sent('randstore', 100);
    r.complete({ fn: 'randstore', intendedMs: 100, endMs: 300, status: 503, errorCode: 'DB_UNAVAILABLE' });
    r.dropped('randshow', 500);
    r.sent('randshow', 1200);
    r.complete({ fn: 'randshow', intendedMs: 1200, endMs: 1210, status: 0, errorCode: 'ECONNREFUSED' });
    const first = r.closedSeconds(1500);
    expect(first).toEqual([
      expect.objectContaining({
        t: 0,
        fn: 'randstore',
        sent: 1,
        completed: 1,
        byClass: expect.objectContaining({ '5xx': 1 }),
        byCode: { DB_UNAVAILABLE: 1 },
      }),
      expect.objectContaining({ t: 0, fn: 'randshow', sent: 0, dropped: 1 }),
    ]);
    expect(r.closedSeconds(1900)).toEqual([]);
    expect(r.closedSeconds(2000).map((s) => [s.t, s.fn, s.byClass.net])).toEqual([
      [1, 'randstore', 0],
      [1, 'randshow', 1],
    ]);
  });

  it('exports one CSV row per function per second', () => {
    const r = new Recorder(['randshow'], 0);
    r.sent('randshow', 0);
    r.complete({ fn: 'randshow', intendedMs: 0, endMs: 5, status: 404, errorCode: 'NO_CATS' });
    const plan = parsePlan({});
    const csv = toCsv({
      version: 1,
      engine: 'node',
      target: 'x',
      plan,
      startedAt: '',
      seconds: r.closedSeconds(1000),
      summary: [],
    });
    const row = (csv.split('\n')[1] as string).split(',');
    expect(row.slice(0, 11)).toEqual(['0', 'randshow', '0', '1', '1', '0', '0', '0', '1', '0', '0']);
    for (const p of row.slice(11, 15)) expect(Number(p)).toBeCloseTo(5, 1);
    expect(row[15]).toBe('NO_CATS:1');
  });
});

describe('plans and profiles', () => {
  it('parses ratios and durations, and names what is wrong', () => {
    expect(parseRatio('1:3')).toEqual({ randstore: 1, randshow: 3 });
    expect(parseRatio('randshow=2,randstore=1')).toEqual({ randstore: 1, randshow: 2 });
    expect(() => parseRatio('cats=1')).toThrow(/ratio must look like/);
    expect(parseDuration('2m')).toBe(120);
    expect(() => parseDuration('soon')).toThrow(/duration must look like/);
    expect(() => parsePlan({ rate: -1 })).toThrow(
      'rate must be a number from 0 to 100000 requests/s; got -1',
    );
  });

  it('seed-demo climbs to the rate or to what puts every function at twice the alert, whichever is higher', () => {
    expect(rateAt(parsePlan({ profile: 'seed-demo', rate: 30 }), 20)).toBe(40);
    expect(rateAt(parsePlan({ profile: 'seed-demo', rate: 60 }), 20)).toBe(60);
    const { stages } = stagesFor(parsePlan({ profile: 'seed-demo', rate: 60 }));
    expect(stages.at(-1)?.target).toBeLessThan(5);
  });

  it('spike rises from a fifth of the rate to the rate and back', () => {
    const plan = parsePlan({ profile: 'spike', rate: 100, durationS: 100 });
    expect(rateAt(plan, 10)).toBe(20);
    expect(rateAt(plan, 50)).toBe(100);
    expect(rateAt(plan, 90)).toBe(20);
  });
});

describe('k6 export', () => {
  const plan: Plan = parsePlan({
    rate: 40,
    ratio: { randstore: 1, randshow: 3 },
    profile: 'constant',
    durationS: 120,
  });

  it('has one arrival-rate scenario per function at its share of the rate', () => {
    const { scenarios } = k6Options(plan);
    expect(scenarios.randstore).toMatchObject({
      executor: 'ramping-arrival-rate',
      exec: 'randstore',
      timeUnit: '1m',
      startRate: 600, // 10/s
      stages: [{ duration: '120s', target: 600 }],
    });
    expect(scenarios.randshow).toMatchObject({
      startRate: 1800,
      stages: [{ duration: '120s', target: 1800 }],
    });
  });

  it('sets the SLOs as thresholds', () => {
    const { thresholds } = k6Options(plan);
    expect(thresholds).toEqual({
      http_req_failed: ['rate<0.01'],
      dropped_iterations: ['count<48'],
      'http_req_duration{fn:randstore}': ['p(95)<2000'],
      'http_req_duration{fn:randshow}': ['p(95)<1000'],
    });
  });

  it('follows each profile’s stages', () => {
    const seed = k6Options(
      parsePlan({ profile: 'seed-demo', rate: 20, ratio: { randstore: 1, randshow: 1 } }),
    );
    expect(seed.scenarios.randshow?.stages).toEqual([
      { duration: '15s', target: 600 },
      { duration: '210s', target: 600 },
      { duration: '5s', target: 30 },
      { duration: '30s', target: 30 },
    ]);
    const ramp = k6Options(
      parsePlan({ profile: 'ramp', rate: 60, durationS: 100, ratio: { randstore: 0, randshow: 1 } }),
    );
    expect(Object.keys(ramp.scenarios)).toEqual(['randshow']);
    expect(ramp.scenarios.randshow?.startRate).toBe(0);
  });

  it('reads its plan from k6 -e variables', () => {
    expect(
      planFromEnv({ RATE: '100', RATIO: '1:1', PROFILE: 'spike', DURATION: '5m', STRATEGY: 'random-id' }),
    ).toEqual({
      rate: 100,
      ratio: { randstore: 1, randshow: 1 },
      profile: 'spike',
      durationS: 300,
      strategy: 'random-id',
    });
    expect(() => planFromEnv({ PROFILE: 'wave' })).toThrow(/profile must be one of/);
    expect(() => planFromEnv({ RATE: 'lots' })).toThrow(
      'rate must be a number from 0 to 100000 requests/s; got "lots"',
    );
  });

  it('bakes the current plan into an exported script', () => {
    const script = bakePlan('export const options = {};', plan);
    expect(script).toContain('"rate":40');
    expect(script).toContain('"ratio":{"randstore":1,"randshow":3}');
    expect(script.indexOf('SYSTEMBREAKER_PLAN')).toBeLessThan(script.indexOf('export const options'));
  });
});
