import { TARGET_FUNCTIONS } from '../../contract/functions.ts';
import { parsePlan } from '../../contract/plan.ts';
import { processUsage } from '../../gateway/usage.ts';
import { LoadEngine } from '../../loadgen/src/node/engine.ts';
import { startBenchStack } from '../stack.ts';
import { round } from '../stats.ts';

export interface MemoryRow {
  fn: string;
  beforeMiB: number;
  /** RSS half way through the run. */
  midMiB: number;
  afterMiB: number;
  /** RSS after the run ÷ before it. */
  growth: number;
  /** RSS after the run ÷ half way: what the second half added (a leak keeps growing; a warm heap does not). */
  lastHalfGrowth: number;
  requests: number;
}

/** A process's resident memory in MiB, as the gateway reads it for `usage`. */
async function rssMiB(pid: number): Promise<number> {
  return round(((await processUsage(pid))?.rssBytes ?? Number.NaN) / 1048576, 1);
}

/** RSS of one randstore and one randshow replica before and after a sustained load. */
export async function benchMemory(
  seconds: number,
  rate: number,
  env: NodeJS.ProcessEnv,
): Promise<MemoryRow[]> {
  const stack = await startBenchStack(env, 10);
  try {
    const replicas = TARGET_FUNCTIONS.map((fn) => ({
      fn,
      pid: stack.gateway.sets.get(fn)?.pick()?.pid as number,
    }));
    const before = await Promise.all(replicas.map((r) => rssMiB(r.pid)));
    let mid: number[] = [];
    const halfWay = setTimeout(
      () =>
        void Promise.all(replicas.map((r) => rssMiB(r.pid))).then((m) => {
          mid = m;
        }),
      (seconds * 1000) / 2,
    );
    const results = await new LoadEngine({
      target: stack.gateway.url,
      plan: parsePlan({
        rate,
        durationS: seconds,
        ratio: { randstore: 1, randshow: 3 },
        strategy: 'random-id',
      }),
      maxInFlight: 256,
      connections: 32,
      timeoutMs: 30_000,
    }).run();
    clearTimeout(halfWay);
    const after = await Promise.all(replicas.map((r) => rssMiB(r.pid)));
    return replicas.map((r, i) => ({
      fn: r.fn,
      beforeMiB: before[i] as number,
      midMiB: mid[i] ?? Number.NaN,
      afterMiB: after[i] as number,
      growth: round((after[i] as number) / (before[i] as number), 3),
      lastHalfGrowth: round((after[i] as number) / (mid[i] ?? Number.NaN), 3),
      requests: results.summary.find((s) => s.fn === r.fn)?.completed ?? 0,
    }));
  } finally {
    await stack.stop();
  }
}
