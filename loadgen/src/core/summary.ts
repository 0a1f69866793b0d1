import type { DbSample, RunResults } from '../../../contract/results.ts';

/** The most each function's replicas and CPU reached, and the database at its busiest. */
export interface Peaks {
  functions: Record<string, { replicas: number; cpu?: number }>;
  /** The sample with the most connections. */
  db?: DbSample;
  /** The most statements running at once, whenever it was. */
  queriesRunning?: number;
}

export function peaksOf(results: RunResults): Peaks {
  const functions: Peaks['functions'] = {};
  let db: DbSample | undefined;
  let queriesRunning: number | undefined;
  for (const sample of results.system ?? []) {
    for (const [fn, f] of Object.entries(sample.functions ?? {})) {
      const peak = functions[fn] ?? { replicas: 0 };
      functions[fn] = peak;
      peak.replicas = Math.max(peak.replicas, f.replicas);
      if (f.cpu !== undefined) peak.cpu = Math.max(peak.cpu ?? 0, f.cpu);
    }
    if (sample.db) {
      if (!db || sample.db.threadsConnected > db.threadsConnected) db = sample.db;
      queriesRunning = Math.max(queriesRunning ?? 0, sample.db.queriesRunning);
    }
  }
  const sorted = Object.fromEntries(Object.entries(functions).sort(([a], [b]) => a.localeCompare(b)));
  return {
    functions: sorted,
    ...(db ? { db } : {}),
    ...(queriesRunning === undefined ? {} : { queriesRunning }),
  };
}

const failed = (s: RunResults['summary'][number]) => s.completed - s.byClass['2xx'];

/** Two runs side by side, one row per measure: what a fix changed. */
export function compareRuns(
  before: RunResults,
  after: RunResults,
): Record<string, { before: string; after: string }> {
  const rows: Record<string, { before: string; after: string }> = {};
  const row = (name: string, a: string | number | undefined, b: string | number | undefined) => {
    rows[name] = { before: String(a ?? '—'), after: String(b ?? '—') };
  };
  row('strategy', before.plan.strategy, after.plan.strategy);
  const fns = [...new Set([...before.summary, ...after.summary].map((s) => s.fn))].sort();
  for (const fn of fns) {
    const a = before.summary.find((s) => s.fn === fn);
    const b = after.summary.find((s) => s.fn === fn);
    row(`${fn} calls`, a?.completed, b?.completed);
    row(`${fn} p50 ms`, a?.p50, b?.p50);
    row(`${fn} p99 ms`, a?.p99, b?.p99);
    row(`${fn} failed`, a && failed(a), b && failed(b));
  }
  const pa = peaksOf(before);
  const pb = peaksOf(after);
  for (const fn of fns) row(`${fn} peak replicas`, pa.functions[fn]?.replicas, pb.functions[fn]?.replicas);
  row('MySQL peak connections', pa.db?.threadsConnected, pb.db?.threadsConnected);
  row('MySQL peak queries running', pa.queriesRunning, pb.queriesRunning);
  return rows;
}
