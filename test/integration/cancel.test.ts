import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import mysql from 'mysql2/promise';
import { Pool, request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { errorCodeOf } from '../../contract/errors.ts';
import { REQUEST_TIMEOUT_HEADER } from '../../contract/functions.ts';
import { createCatRepository } from '../../functions/lib/db/cats.ts';
import { Database } from '../../functions/lib/db/database.ts';
import { createQueryKiller } from '../../functions/lib/db/pool.ts';
import { silentLogger } from '../../functions/lib/log.ts';
import { createMetrics } from '../../functions/lib/metrics.ts';
import { createRandshow } from '../../functions/randshow/handler.ts';
import { type FunctionServer, startFunctionServer } from '../../functions/server/server.ts';
import { forward } from '../../gateway/proxy.ts';
import type { Replica } from '../../gateway/replica.ts';
import { seedCats } from '../../mysql/seed.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

/**
 * Work for callers who left, against a real MariaDB: a `LOCK TABLES cats WRITE` held by the
 * test makes every randshow SELECT wait on the server for as long as the test wants (it shows
 * in the process list as a running query), so what happens to it when its caller goes away can
 * be watched without timing a slow query.
 */
let db: TestDatabase;
let locker: mysql.Connection;
let server: FunctionServer | undefined;
let killer: ReturnType<typeof createQueryKiller> | undefined;

beforeAll(async () => {
  db = await createTestDatabase(undefined, 2);
  await seedCats(db.url, 20, 512);
  locker = await mysql.createConnection({ uri: db.url });
});
afterEach(async () => {
  await locker.query('UNLOCK TABLES');
  await server?.drain();
  await killer?.close();
  server = undefined;
  killer = undefined;
});
afterAll(async () => {
  await locker?.end();
  await db?.drop();
});

/** randshow on a real server over loopback, with a pool of `concurrency` and the given limits. */
async function startRandshow(options: { concurrency: number; queryTimeoutMs?: number; queueLimit?: number }) {
  const metrics = createMetrics('randshow');
  killer = createQueryKiller(db.settings, 2000);
  const database = new Database(db.pool, {
    concurrency: options.concurrency,
    queryTimeoutMs: options.queryTimeoutMs ?? 30_000,
    mode: 'naive',
    retryAttempts: 0,
    killQuery: killer.kill,
    metrics,
    ...(options.queueLimit === undefined ? {} : { queueLimit: options.queueLimit }),
  });
  const handler = createRandshow({
    cats: createCatRepository(database),
    metrics,
    defaultStrategy: 'order-by-rand',
  });
  server = await startFunctionServer({
    handler,
    host: '127.0.0.1',
    port: 0,
    maxBodyBytes: 65536,
    drainTimeoutMs: 2000,
    metrics,
    log: silentLogger,
  });
  return { url: `${server.url}/?format=json`, metrics, database };
}

/** The randshow queries MySQL is running for this test's database. */
async function randshowQueries(): Promise<number> {
  const rows =
    await db.query<Array<{ db: string | null; Command: string; Info: string | null }>>(
      'SHOW FULL PROCESSLIST',
    );
  return rows.filter((r) => r.db === db.name && r.Command === 'Query' && r.Info?.includes('FROM cats'))
    .length;
}

const cancelled = async (metrics: ReturnType<typeof createMetrics>, stage: string, reason: string) =>
  (await metrics.dbCancelled.get()).values.find((v) => v.labels.stage === stage && v.labels.reason === reason)
    ?.value ?? 0;

/** A call that hangs up once the test says so; it settles with what the client saw. */
function hangingUpCall(url: string, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  const done = request(url, { signal: controller.signal, headers }).then(
    (res) => res.statusCode,
    (err: Error) => err.name,
  );
  return { hangUp: () => controller.abort(), done };
}

describe('a caller who hangs up', () => {
  it('has its running query stopped on the server, and the connection serves the next call', async () => {
    const { url, metrics } = await startRandshow({ concurrency: 1 });
    await locker.query('LOCK TABLES cats WRITE');
    const call = hangingUpCall(url);
    await expect.poll(randshowQueries, { timeout: 5000 }).toBe(1);
    call.hangUp();
    expect(await call.done).toBe('AbortError');
    await expect.poll(randshowQueries, { timeout: 2000 }).toBe(0);
    expect(await cancelled(metrics, 'running', 'caller_gone')).toBe(1);
    await locker.query('UNLOCK TABLES');
    // The one connection of the pool was the one whose query was stopped: no KILL is left on it.
    const next = await fetch(url);
    expect(next.status).toBe(200);
    await next.arrayBuffer();
  });

  it('leaves the queue without its query ever reaching MySQL', async () => {
    const { url, metrics } = await startRandshow({ concurrency: 1 });
    await locker.query('LOCK TABLES cats WRITE');
    const first = hangingUpCall(url);
    await expect.poll(randshowQueries, { timeout: 5000 }).toBe(1);
    const queued = hangingUpCall(url);
    await expect.poll(() => server?.inFlight(), { timeout: 2000 }).toBe(2);
    queued.hangUp();
    await queued.done;
    await expect.poll(() => cancelled(metrics, 'queued', 'caller_gone'), { timeout: 2000 }).toBe(1);
    await locker.query('UNLOCK TABLES');
    expect(await first.done).toBe(200);
    expect(await cancelled(metrics, 'running', 'caller_gone')).toBe(0);
  });
});

describe('a deadline', () => {
  it('from x-request-timeout-ms stops the running query: 504 DEADLINE_EXCEEDED and nothing left on the server', async () => {
    const { url, metrics } = await startRandshow({ concurrency: 1 });
    await locker.query('LOCK TABLES cats WRITE');
    const res = await fetch(url, { headers: { [REQUEST_TIMEOUT_HEADER]: '700' } });
    expect(res.status).toBe(504);
    expect(errorCodeOf(await res.text())).toBe('DEADLINE_EXCEEDED');
    await expect.poll(randshowQueries, { timeout: 1000 }).toBe(0);
    expect(await cancelled(metrics, 'queued', 'deadline')).toBe(0);
  });

  it('that is not a number of milliseconds is refused with 400 BAD_REQUEST', async () => {
    const { url } = await startRandshow({ concurrency: 1 });
    for (const bad of ['soon', '-5', '0', '1.5', '99999999999']) {
      const res = await fetch(url, { headers: { [REQUEST_TIMEOUT_HEADER]: bad } });
      expect(res.status).toBe(400);
      expect(errorCodeOf(await res.text())).toBe('BAD_REQUEST');
    }
  });
});

describe('a bounded queue', () => {
  it('answers 503 DB_QUEUE_FULL at once when the wait ahead would outlast the caller', async () => {
    // Before any query finished, each is taken to last the 5 s query limit: a caller who waits
    // 2 s cannot be served behind one running.
    const { url } = await startRandshow({ concurrency: 1, queryTimeoutMs: 5000 });
    await locker.query('LOCK TABLES cats WRITE');
    const first = hangingUpCall(url);
    await expect.poll(randshowQueries, { timeout: 5000 }).toBe(1);
    const res = await fetch(url, { headers: { [REQUEST_TIMEOUT_HEADER]: '2000' } });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(errorCodeOf(await res.text())).toBe('DB_QUEUE_FULL');
    // It was refused while the first still ran: nothing of it reached MySQL.
    expect(await randshowQueries()).toBe(1);
    first.hangUp();
    await first.done;
  });

  it('answers 503 DB_QUEUE_FULL past DB_QUEUE_LIMIT whatever the deadline', async () => {
    const { url } = await startRandshow({ concurrency: 1, queueLimit: 1 });
    await locker.query('LOCK TABLES cats WRITE');
    const first = hangingUpCall(url);
    await expect.poll(randshowQueries, { timeout: 5000 }).toBe(1);
    const second = hangingUpCall(url);
    await expect.poll(() => server?.inFlight(), { timeout: 2000 }).toBe(2);
    const res = await fetch(url);
    expect(res.status).toBe(503);
    expect(errorCodeOf(await res.text())).toBe('DB_QUEUE_FULL');
    await locker.query('UNLOCK TABLES');
    expect([await first.done, await second.done]).toEqual([200, 200]);
  });
});

describe('the local gateway in front', () => {
  /** The gateway's proxy to one replica, on a server of its own, as /function/randshow routes it. */
  async function gatewayTo(replicaUrl: string, timeoutMs: number) {
    const replica = { id: 'randshow-1', dispatcher: new Pool(replicaUrl) } as unknown as Replica;
    const proxy: Server = createServer((req, res) => {
      void forward(req, res, replica, req.url ?? '/', timeoutMs);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    return {
      url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/?format=json`,
      async close() {
        proxy.closeAllConnections();
        await new Promise((r) => proxy.close(r));
        await replica.dispatcher?.close();
      },
    };
  }

  it('passes a hang-up on: its upstream call is aborted and the replica stops the query', async () => {
    const { url, metrics } = await startRandshow({ concurrency: 1 });
    const gateway = await gatewayTo(url.replace(/\/\?.*$/, ''), 60_000);
    try {
      await locker.query('LOCK TABLES cats WRITE');
      const call = hangingUpCall(gateway.url);
      await expect.poll(randshowQueries, { timeout: 5000 }).toBe(1);
      call.hangUp();
      await call.done;
      await expect.poll(randshowQueries, { timeout: 2000 }).toBe(0);
      expect(await cancelled(metrics, 'running', 'caller_gone')).toBe(1);
    } finally {
      await gateway.close();
    }
  });

  it('passes a caller’s timeout shorter than its own on to the replica, which gives up then', async () => {
    const { url } = await startRandshow({ concurrency: 1 });
    const gateway = await gatewayTo(url.replace(/\/\?.*$/, ''), 60_000);
    try {
      await locker.query('LOCK TABLES cats WRITE');
      // The caller waits 700 ms: the replica gives up then, well before the gateway's 60 s.
      const res = await fetch(gateway.url, { headers: { [REQUEST_TIMEOUT_HEADER]: '700' } });
      expect(res.status).toBe(504);
      expect(errorCodeOf(await res.text())).toBe('DEADLINE_EXCEEDED');
      await expect.poll(randshowQueries, { timeout: 1000 }).toBe(0);
    } finally {
      await gateway.close();
    }
  });
});
