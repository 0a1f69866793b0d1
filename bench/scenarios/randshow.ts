import { STRATEGIES, type Strategy } from '../../contract/functions.ts';
import { mysqlSettingsFromUrl } from '../../functions/lib/config.ts';
import { createCatRepository } from '../../functions/lib/db/cats.ts';
import { Database } from '../../functions/lib/db/database.ts';
import { createPool } from '../../functions/lib/db/pool.ts';
import { createRandshow } from '../../functions/randshow/handler.ts';
import { percentile, round, sample } from '../stats.ts';

export interface RandshowCell {
  rows: number;
  strategy: Strategy;
  calls: number;
  p50Ms: number;
  p99Ms: number;
}

/** randshow's latency per strategy at a table size, calling the handler as a replica does. */
export async function benchRandshow(url: string, rows: number, budgetMs: number): Promise<RandshowCell[]> {
  const pool = createPool(mysqlSettingsFromUrl(url), {
    connectionLimit: 2,
    connectTimeoutMs: 5000,
    idleTimeoutMs: 60_000,
  });
  const db = new Database(pool, { concurrency: 2, queryTimeoutMs: 0, mode: 'naive', retryAttempts: 0 });
  const randshow = createRandshow({ cats: createCatRepository(db), defaultStrategy: 'order-by-rand' });
  const cells: RandshowCell[] = [];
  try {
    for (const strategy of STRATEGIES) {
      const call = async () => {
        const res = await randshow(new Request(`http://bench/?format=json&strategy=${strategy}`));
        if (res.status !== 200) throw new Error(`randshow answered ${res.status}: ${await res.text()}`);
        await res.arrayBuffer();
      };
      await call();
      const times = await sample(call, budgetMs, 2000);
      cells.push({
        rows,
        strategy,
        calls: times.length,
        p50Ms: round(percentile(times, 50)),
        p99Ms: round(percentile(times, 99)),
      });
    }
  } finally {
    await pool.end();
  }
  return cells;
}
