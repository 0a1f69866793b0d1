import { errorCodeOf } from '../contract/errors.ts';
import { parsePlan } from '../contract/plan.ts';
import { parseConfig } from '../functions/lib/config.ts';
import { DATABASE } from '../gateway/local-stack.ts';
import { LoadEngine } from '../loadgen/src/node/engine.ts';
import { seedCats } from '../mysql/seed.ts';
import { withDatabase } from '../mysql/server.ts';
import type { FaultCase } from './cases.ts';
import type { FaultContext } from './context.ts';

/** How long `ORDER BY RAND()` should take on the seeded table: long enough that a burst piles up. */
const TARGET_QUERY_MS = 1000;
/** The burst: randshow only, ORDER BY RAND(), from callers who give up after CALLER_TIMEOUT_MS. */
const BURST = { rate: 20, seconds: 4 };
const CALLER_TIMEOUT_MS = 2000;
/** Callers who stay: no timeout of their own beyond the gateway's. */
const PATIENT_CALLERS = 3;
/** Bound of the wait for the database to go quiet, so the case always ends. */
const QUIET_WAIT_LIMIT_MS = 60_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** randshow's statements MySQL is running now (the replicas connect as the `randshow` user). */
async function randshowQueries(ctx: FaultContext): Promise<number> {
  const rows =
    await ctx.sql<Array<{ User: string; Command: string; Info: string | null }>>('SHOW FULL PROCESSLIST');
  return rows.filter((r) => r.User === 'randshow' && r.Command === 'Query' && r.Info?.includes('FROM cats'))
    .length;
}

/** Seeds 16 KiB rows until one ORDER BY RAND() takes about TARGET_QUERY_MS (bounded: at most 16,000 rows). */
async function seedUntilSlow(ctx: FaultContext): Promise<{ rows: number; queryMs: number }> {
  const url = withDatabase(ctx.stack.mysql.url, DATABASE);
  let rows = await ctx.rows();
  let queryMs = 0;
  for (let target = Math.max(rows, 2000); target <= 16_000; target *= 2) {
    await seedCats(url, target, 16 * 1024);
    rows = target;
    const t = performance.now();
    await ctx.sql(`SELECT * FROM ${DATABASE}.cats ORDER BY RAND() LIMIT 1`);
    queryMs = performance.now() - t;
    if (queryMs >= TARGET_QUERY_MS) break;
  }
  return { rows, queryMs };
}

/**
 * The storm that outlives its callers: a short burst of `ORDER BY RAND()` calls whose callers
 * give up after 2 s, on a table where each takes about a second. Measured: how long after the
 * last call was sent MySQL still runs randshow queries (before the functions cancelled work,
 * it worked through its queue for minutes), and whether the few callers who stayed got their
 * answers.
 */
export const abandonedCase: FaultCase = {
  group: 'callers who left',
  name: 'a burst of ORDER BY RAND() callers who give up after 2 s',
  expected:
    'no randshow query left within the query limit + 2 s of the end; every caller who stayed answered (a cat, or MySQL’s own time limit), none cut off',
  async run(ctx) {
    const before = await ctx.sql<Array<{ top: number | null }>>(
      `SELECT MAX(id) AS top FROM ${DATABASE}.cats`,
    );
    const { rows, queryMs } = await seedUntilSlow(ctx);
    // The replica's own query limit, as it parses its environment.
    const limitMs = parseConfig(
      ctx.stack.gateway.sets.get('randshow')?.spec.environment ?? {},
    ).DB_QUERY_TIMEOUT_MS;
    try {
      const url = `${ctx.gw}/function/randshow?format=json&strategy=order-by-rand`;
      // The patient callers come first, so they are not queued behind the burst.
      const patient = Array.from({ length: PATIENT_CALLERS }, async () => {
        const res = await fetch(url);
        const code = errorCodeOf(await res.text());
        return code ? `${res.status} ${code}` : String(res.status);
      });
      await sleep(200);
      const engine = new LoadEngine({
        target: ctx.gw,
        plan: parsePlan({
          rate: BURST.rate,
          durationS: BURST.seconds,
          ratio: { randstore: 0, randshow: 1 },
          strategy: 'order-by-rand',
        }),
        maxInFlight: 256,
        connections: 64,
        timeoutMs: CALLER_TIMEOUT_MS,
      });
      const results = engine.run();
      await sleep(BURST.seconds * 1000);
      const loadEnd = performance.now();
      let quietAfterMs = Number.POSITIVE_INFINITY;
      while (performance.now() - loadEnd < QUIET_WAIT_LIMIT_MS) {
        if ((await randshowQueries(ctx)) === 0) {
          quietAfterMs = performance.now() - loadEnd;
          break;
        }
        await sleep(100);
      }
      const burst = await results;
      const stayed = await Promise.all(patient);
      const codes: Record<string, number> = {};
      for (const s of burst.summary)
        for (const [c, n] of Object.entries(s.byCode)) codes[c] = (codes[c] ?? 0) + n;
      const metrics = await (await fetch(`${ctx.gw}/metrics`)).text();
      const cancelled = [...metrics.matchAll(/^systembreaker_db_cancelled_total\{[^}]*\} (\d+)/gm)].reduce(
        (n, m) => n + Number(m[1]),
        0,
      );
      const quiet = Number.isFinite(quietAfterMs) ? `${(quietAfterMs / 1000).toFixed(1)} s` : 'never';
      return {
        observed: `${rows} rows, ORDER BY RAND() ${(queryMs / 1000).toFixed(1)} s; burst ${Object.entries(
          codes,
        )
          .map(([k, n]) => `${k}×${n}`)
          .join(
            ', ',
          )}; quiet ${quiet} after the end; ${cancelled} statements cancelled; stayed: ${stayed.join(', ')}`,
        // A caller who stayed may meet MySQL's own limit on a loaded machine (504 DB_TIMEOUT),
        // but never the shedding or cancelling meant for callers who left.
        pass: quietAfterMs <= limitMs + 2000 && stayed.every((s) => s === '200' || s === '504 DB_TIMEOUT'),
      };
    } finally {
      // The big rows would slow every later ORDER BY RAND(): they go again.
      await ctx.sql(`DELETE FROM ${DATABASE}.cats WHERE id > ?`, [before[0]?.top ?? 0]);
    }
  },
};
