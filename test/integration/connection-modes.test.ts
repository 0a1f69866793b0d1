import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../mysql/migrate.ts';
import { provisionMysql } from '../../mysql/provision.ts';
import { seedCats } from '../../mysql/seed.ts';
import type { MysqlServer } from '../../mysql/server.ts';
import { type FunctionProcess, spawnFunction } from '../support/process.ts';

// A MySQL of its own with room for only 12 connections, as a micro instance would have.
const MAX_CONNECTIONS = 12;
const REPLICAS = 4;
let server: MysqlServer;
let running: FunctionProcess[] = [];

beforeAll(async () => {
  const { MYSQL_URL: _ignored, ...env } = process.env;
  server = await provisionMysql({
    env,
    database: 'modes',
    serverArgs: [`--max-connections=${MAX_CONNECTIONS}`],
  });
  await migrate(server.url, { database: 'modes' });
  await seedCats(server.url, 2000, 2048);
});
afterAll(async () => {
  await Promise.all(running.map((p) => p.stop('SIGKILL')));
  await server?.close();
});

async function replicas(env: Record<string, string>): Promise<FunctionProcess[]> {
  running = await Promise.all(
    Array.from({ length: REPLICAS }, () =>
      spawnFunction({
        FUNCTION: 'randshow',
        MYSQL_URL: server.url,
        DB_POOL_SIZE: '10',
        DB_CONNECT_TIMEOUT_MS: '2000',
        ...env,
      }),
    ),
  );
  return running;
}

/** 160 randshow calls, 40 at a time, spread over the replicas; the status codes and error codes. */
async function burst(
  targets: FunctionProcess[],
): Promise<{ ok: number; codes: Record<string, number>; maxMs: number }> {
  let next = 0;
  let ok = 0;
  let maxMs = 0;
  const codes: Record<string, number> = {};
  await Promise.all(
    Array.from({ length: 40 }, async (_, worker) => {
      while (next < 160) {
        next++;
        const start = Date.now();
        const res = await fetch(
          `${targets[worker % targets.length]?.url}/?format=json&strategy=order-by-rand`,
        );
        maxMs = Math.max(maxMs, Date.now() - start);
        if (res.status === 200) ok++;
        else {
          const code = ((await res.json()) as { error: { code: string } }).error.code;
          codes[code] = (codes[code] ?? 0) + 1;
          continue;
        }
        await res.arrayBuffer();
      }
    }),
  );
  return { ok, codes, maxMs };
}

describe('connection modes against max_connections = 12 with 4 replicas', () => {
  it('naive pools of 10 per replica run into "too many connections": clean 503s with a code', async () => {
    const targets = await replicas({ DB_CONNECTION_MODE: 'naive' });
    const result = await burst(targets);
    expect(result.codes.DB_TOO_MANY_CONNECTIONS ?? 0).toBeGreaterThan(0);
    expect(Object.keys(result.codes)).toEqual(['DB_TOO_MANY_CONNECTIONS']);
    expect(result.maxMs).toBeLessThan(10_000); // nothing hangs past its timeouts
    const metrics = await (await fetch(`${targets[0]?.url}/_/metrics`)).text();
    expect(metrics).toMatch(/systembreaker_db_connection_mode\{mode="naive",function_name="randshow"\} 1/);
    for (const p of targets) expect(p.proc.exitCode).toBeNull();
    await Promise.all(targets.map((p) => p.stop('SIGTERM')));
  });

  it('budget pools sized from max_connections serve the same load without one', async () => {
    const targets = await replicas({
      DB_CONNECTION_MODE: 'budget',
      DB_BUDGET_MAX_REPLICAS: String(REPLICAS),
      DB_BUDGET_UTILISATION: '0.8',
      DB_BUDGET_IDLE_MS: '1000',
    });
    // floor(12 × 0.8 ÷ 4) = 2 connections per replica, once each has read max_connections.
    for (const p of targets)
      await expect.poll(async () => (await pool(p)).limit, { timeout: 10_000 }).toBe(2);
    // Sampled during the burst: no replica ever holds more connections than its budget.
    let most = 0;
    const sampler = setInterval(() => {
      for (const p of targets)
        void pool(p)
          .then((s) => {
            most = Math.max(most, (s.in_use ?? 0) + (s.free ?? 0));
          })
          .catch(() => {});
    }, 50);
    const result = await burst(targets).finally(() => clearInterval(sampler));
    expect(result.codes).toEqual({});
    expect(result.ok).toBe(160);
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(2);
    // …and gives them back once idle (DB_BUDGET_IDLE_MS), as the pool's counts show.
    for (const p of targets)
      await expect
        .poll(
          async () => {
            const s = await pool(p);
            return (s.in_use ?? 0) + (s.free ?? 0);
          },
          { timeout: 10_000 },
        )
        .toBe(0);
    await Promise.all(targets.map((p) => p.stop('SIGTERM')));
  });

  it('budget pools follow max_connections when the server’s setting changes', async () => {
    const targets = await replicas({
      DB_CONNECTION_MODE: 'budget',
      DB_BUDGET_MAX_REPLICAS: String(REPLICAS),
      DB_BUDGET_UTILISATION: '0.8',
      DB_BUDGET_RECHECK_MS: '200',
    });
    const limits = () => Promise.all(targets.map(async (p) => (await pool(p)).limit));
    await expect.poll(limits, { timeout: 10_000 }).toEqual([2, 2, 2, 2]);
    const admin = await mysql.createConnection({ uri: server.url });
    try {
      // floor(24 × 0.8 ÷ 4) = 4 per replica.
      await admin.query('SET GLOBAL max_connections = 24');
      await expect.poll(limits, { timeout: 10_000 }).toEqual([4, 4, 4, 4]);
    } finally {
      await admin.query(`SET GLOBAL max_connections = ${MAX_CONNECTIONS}`);
      await admin.end();
    }
    await expect.poll(limits, { timeout: 10_000 }).toEqual([2, 2, 2, 2]);
    await Promise.all(targets.map((p) => p.stop('SIGTERM')));
  });
});

/** A replica's pool, from the states of its systembreaker_db_pool_connections gauge. */
async function pool(p: FunctionProcess): Promise<Record<string, number>> {
  const text = await (await fetch(`${p.url}/_/metrics`)).text();
  return Object.fromEntries(
    [...text.matchAll(/^systembreaker_db_pool_connections\{state="(\w+)"[^}]*\} (\d+)/gm)].map((m) => [
      m[1] as string,
      Number(m[2]),
    ]),
  );
}
