import type { StoredAnswer } from '../contract/functions.ts';
import { DATABASE } from '../gateway/local-stack.ts';
import type { FaultCase } from './cases.ts';
import type { FaultContext } from './context.ts';

/** How long the functions have to answer 2xx again after the kill (the talk saw about 20 s on its cluster). */
export const REBOOT_RECOVERY_LIMIT_MS = 30_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Calls randstore and randshow in a loop until told to stop; every 200 randstore answer is kept. */
function loadLoop(ctx: FaultContext, workers: number) {
  const acknowledged: StoredAnswer[] = [];
  let running = true;
  const worker = async (i: number) => {
    while (running) {
      try {
        if (i % 2 === 0) {
          const res = await fetch(`${ctx.gw}/function/randstore`, { method: 'POST' });
          if (res.status === 200) acknowledged.push((await res.json()) as StoredAnswer);
          else await res.arrayBuffer();
        } else {
          await (await fetch(`${ctx.gw}/function/randshow?format=json&strategy=random-id`)).arrayBuffer();
        }
      } catch {
        await sleep(50); // the gateway refused or cut the call: try again
      }
    }
  };
  const done = Promise.all(Array.from({ length: workers }, (_, i) => worker(i)));
  return {
    acknowledged,
    async stop() {
      running = false;
      await done;
    },
  };
}

/** Whether every function answers 2xx now. */
async function allAnswer(gw: string): Promise<boolean> {
  const calls = [
    fetch(`${gw}/function/randstore`, { method: 'POST' }),
    fetch(`${gw}/function/randshow?format=json&strategy=random-id`),
    fetch(`${gw}/function/dbstats`),
  ].map((p) =>
    p.then(
      async (r) => {
        await r.arrayBuffer();
        return r.status >= 200 && r.status < 300;
      },
      () => false,
    ),
  );
  return (await Promise.all(calls)).every(Boolean);
}

/**
 * The talk's reboot test, on one machine: under load, every replica and MySQL get SIGKILL at
 * once; MySQL is started again at once (as Kubernetes restarts a pod), the gateway replaces
 * its replicas. Measured: the time until every function answers 2xx. Checked: every randstore
 * the functions acknowledged with 200 before the kill is in the table with its sha256 —
 * acknowledged means committed, and InnoDB's redo log (innodb_flush_log_at_trx_commit=1, the
 * default) replays a commit after a crash; the integrity case then decodes every row.
 */
export const rebootCase: FaultCase = {
  group: 'reboot',
  name: 'every replica and MySQL killed at once (SIGKILL) under load',
  expected: `every function 2xx again within ${REBOOT_RECOVERY_LIMIT_MS / 1000} s; every acknowledged randstore row there, byte-exact`,
  async run(ctx) {
    const { startServer, kill } = ctx.stack.mysql;
    if (!startServer || !kill) return { observed: 'this MySQL cannot be killed (MYSQL_URL)', pass: false };
    const load = loadLoop(ctx, 6);
    await sleep(2000);
    const before = load.acknowledged.length;
    const killedAt = Date.now();
    await ctx.stack.kill();
    await startServer();
    let recoveredMs = Number.POSITIVE_INFINITY;
    while (Date.now() - killedAt < REBOOT_RECOVERY_LIMIT_MS * 2) {
      if (await allAnswer(ctx.gw)) {
        recoveredMs = Date.now() - killedAt;
        break;
      }
      await sleep(200);
    }
    await load.stop();
    const acked = load.acknowledged;
    const stored = acked.length
      ? await ctx.sql<Array<{ id: number; sha256: string }>>(
          `SELECT id, sha256 FROM ${DATABASE}.cats WHERE id IN (?)`,
          [acked.map((a) => a.id)],
        )
      : [];
    const byId = new Map(stored.map((r) => [Number(r.id), r.sha256]));
    const lost = acked.filter((a) => byId.get(a.id) !== a.sha256).length;
    return {
      observed:
        `2xx again after ${Number.isFinite(recoveredMs) ? `${(recoveredMs / 1000).toFixed(1)} s` : 'never'}; ` +
        `${acked.length} acknowledged (${before} before the kill), ${lost} missing or changed`,
      pass: recoveredMs <= REBOOT_RECOVERY_LIMIT_MS && before > 0 && lost === 0,
    };
  },
};
