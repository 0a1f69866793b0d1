import { parsePlan } from '../../contract/plan.ts';
import { LoadEngine } from '../../loadgen/src/node/engine.ts';
import { autocannonRun } from '../autocannon.ts';
import { startNoopServer } from '../noop-server.ts';
import { round } from '../stats.ts';

export interface EngineResult {
  connections: number;
  seconds: number;
  autocannonRps: number;
  engineMaxRps: number;
  /** The Node engine's best rate ÷ autocannon's, same server and connections. */
  maxRatio: number;
  accuracy: { dialled: number; achieved: number; ratio: number; dropped: number; p99Ms: number };
}

/**
 * The Node engine against autocannon on the same no-op server: the highest rate the open
 * loop holds (within 1 %, nothing dropped) against autocannon's closed-loop maximum, and how
 * closely it holds 2,000 requests/s.
 */
export async function benchEngine(seconds: number, connections: number): Promise<EngineResult> {
  const server = await startNoopServer();
  try {
    const ac = await autocannonRun(`${server.url}/`, connections, seconds);
    const run = (rate: number, maxInFlight: number, durationS = seconds) =>
      new LoadEngine({
        target: server.url,
        plan: parsePlan({
          rate,
          durationS,
          ratio: { randstore: 0, randshow: 1 },
          profile: 'constant',
        }),
        maxInFlight,
        connections,
        timeoutMs: 10_000,
      }).run();
    // The highest rate it holds: achieved within 1 % of dialled, nothing dropped.
    // Each step runs in a warm process: the first run pays for JIT and connection set-up.
    await run(5000, 1024, 2);
    const stepS = Math.min(seconds, 6);
    let engineMaxRps = 0;
    for (const rate of [5000, 10_000, 15_000, 20_000, 25_000, 30_000, 40_000, 50_000, 60_000, 80_000]) {
      const r = await run(rate, 1024, stepS);
      const s = r.summary[1];
      if (!s || s.dropped > 0 || s.completed < rate * stepS * 0.99) break;
      engineMaxRps = rate;
    }
    const steady = await run(2000, 1024);
    const show = steady.summary[1];
    const achieved = (show?.completed ?? 0) / seconds;
    return {
      connections,
      seconds,
      autocannonRps: ac.rps,
      engineMaxRps,
      maxRatio: round(engineMaxRps / ac.rps, 3),
      accuracy: {
        dialled: 2000,
        achieved: round(achieved, 1),
        ratio: round(achieved / 2000, 4),
        dropped: show?.dropped ?? 0,
        p99Ms: show?.p99 ?? 0,
      },
    };
  } finally {
    await server.stop();
  }
}
