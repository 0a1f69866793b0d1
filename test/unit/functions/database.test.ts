import type { Pool } from 'mysql2/promise';
import { describe, expect, it } from 'vitest';
import type { Call } from '../../../functions/lib/call.ts';
import { boundStatement, flavourOf } from '../../../functions/lib/db/bounded.ts';
import { budgetPoolSize } from '../../../functions/lib/db/budget.ts';
import { Database, type DatabaseOptions } from '../../../functions/lib/db/database.ts';
import { Semaphore } from '../../../functions/lib/db/semaphore.ts';
import { AppError } from '../../../functions/lib/errors.ts';

/** A pool whose connections run every statement with `query` (thread ids 1, 2, …), counting what it lends. */
function poolOf(query: (sql: string) => Promise<unknown>) {
  let lent = 0;
  let released = 0;
  let nextThread = 1;
  const pool = {
    getConnection: async () => {
      lent++;
      return { threadId: nextThread++, query, execute: query, release: () => void released++ };
    },
  } as unknown as Pool;
  return { pool, lent: () => lent, released: () => released };
}

describe('server-side time limits', () => {
  it('use SET STATEMENT max_statement_time on MariaDB, for any statement', () => {
    expect(boundStatement('SHOW GLOBAL STATUS', 'mariadb', 2500)).toBe(
      'SET STATEMENT max_statement_time=2.500 FOR SHOW GLOBAL STATUS',
    );
  });

  it('use the MAX_EXECUTION_TIME hint on MySQL 8 SELECTs', () => {
    expect(boundStatement('SELECT id FROM cats ORDER BY RAND() LIMIT 1', 'mysql', 2500)).toBe(
      'SELECT /*+ MAX_EXECUTION_TIME(2500) */ id FROM cats ORDER BY RAND() LIMIT 1',
    );
  });

  it('leave a statement alone with no limit set', () => {
    expect(boundStatement('SELECT 1', 'mysql', 0)).toBe('SELECT 1');
  });

  it('tell the server kind from VERSION()', () => {
    expect(flavourOf('10.11.19-MariaDB-0+deb12u1')).toBe('mariadb');
    expect(flavourOf('8.4.3')).toBe('mysql');
  });
});

describe('connection budget', () => {
  it('gives each replica its share of max_connections at the function’s max scale', () => {
    expect(budgetPoolSize(151, { utilisation: 0.8, share: 1, maxReplicas: 20 })).toBe(6);
    expect(budgetPoolSize(500, { utilisation: 0.8, share: 20 / 41, maxReplicas: 20 })).toBe(9);
    expect(budgetPoolSize(12, { utilisation: 0.8, share: 1, maxReplicas: 40 })).toBe(1); // never 0
  });

  /** A pool that refuses the first `refusals` connections with ER_CON_COUNT_ERROR. */
  function refusingPool(refusals: number) {
    let calls = 0;
    const { pool } = poolOf(async () => {
      calls++;
      if (calls <= refusals)
        throw Object.assign(new Error('Too many connections'), { errno: 1040, code: 'ER_CON_COUNT_ERROR' });
      return [[{ ok: 1 }], []];
    });
    return { pool, calls: () => calls };
  }

  it('budget mode retries a refused connection with growing, jittered waits, then succeeds', async () => {
    const waits: number[] = [];
    const { pool, calls } = refusingPool(3);
    const db = new Database(pool, {
      concurrency: 1,
      queryTimeoutMs: 0,
      mode: 'budget',
      retryAttempts: 4,
      sleep: async (ms) => void waits.push(ms),
      random: () => 1,
    });
    expect(await db.statement('q', 'SELECT 1')).toEqual([{ ok: 1 }]);
    expect(calls()).toBe(4);
    expect(waits).toEqual([50, 100, 200]);
  });

  it('budget mode gives up after its attempts with DB_TOO_MANY_CONNECTIONS', async () => {
    const { pool, calls } = refusingPool(100);
    const db = new Database(pool, {
      concurrency: 1,
      queryTimeoutMs: 0,
      mode: 'budget',
      retryAttempts: 2,
      sleep: async () => {},
    });
    await expect(db.statement('q', 'SELECT 1')).rejects.toMatchObject({
      code: 'DB_TOO_MANY_CONNECTIONS',
      status: 503,
    });
    expect(calls()).toBe(3);
  });

  it('naive mode does not retry', async () => {
    const { pool, calls } = refusingPool(1);
    const db = new Database(pool, {
      concurrency: 1,
      queryTimeoutMs: 0,
      mode: 'naive',
      retryAttempts: 4,
      sleep: async () => {},
    });
    await expect(db.statement('q', 'SELECT 1')).rejects.toBeInstanceOf(AppError);
    expect(calls()).toBe(1);
  });
});

describe('the statement gate (our own connection limit)', () => {
  it('admits at most its limit, in order, and more at once when the limit rises', async () => {
    const gate = new Semaphore(2);
    const order: number[] = [];
    const releases = await Promise.all([gate.acquire(), gate.acquire()]);
    const waiting = [3, 4, 5].map(async (n) => {
      const release = await gate.acquire();
      order.push(n);
      return release;
    });
    await Promise.resolve();
    expect([gate.inUse, gate.waiting]).toEqual([2, 3]);
    releases[0]?.();
    await waiting[0];
    expect(order).toEqual([3]);
    gate.setLimit(4);
    await Promise.all(waiting);
    expect(order).toEqual([3, 4, 5]);
    expect([gate.inUse, gate.waiting]).toEqual([4, 0]);
  });

  it('admits none when the limit falls until fewer run than the new limit', async () => {
    const gate = new Semaphore(3);
    const held = await Promise.all([gate.acquire(), gate.acquire(), gate.acquire()]);
    gate.setLimit(1);
    let admitted = false;
    const next = gate.acquire().then((release) => {
      admitted = true;
      return release;
    });
    held[0]?.();
    held[1]?.();
    await Promise.resolve();
    expect(admitted).toBe(false);
    held[2]?.();
    (await next)();
    expect(admitted).toBe(true);
  });

  /** A pool that answers after a tick and records how many statements it ran at once. */
  function countingPool() {
    let now = 0;
    let most = 0;
    const { pool } = poolOf(async () => {
      most = Math.max(most, ++now);
      await new Promise((r) => setTimeout(r, 5));
      now--;
      return [[{ ok: 1 }], []];
    });
    return { pool, most: () => most };
  }

  it('never runs more statements at once than the replica’s limit, and follows a new limit', async () => {
    const { pool, most } = countingPool();
    const db = new Database(pool, { concurrency: 3, queryTimeoutMs: 0, mode: 'budget', retryAttempts: 0 });
    await Promise.all(Array.from({ length: 20 }, () => db.statement('q', 'SELECT 1')));
    expect(most()).toBe(3);
    db.setLimit(5);
    await Promise.all(Array.from({ length: 20 }, () => db.statement('q', 'SELECT 1')));
    expect(most()).toBe(5);
  });
});

describe('work for callers who left', () => {
  /** The Database's clock, moved by the tests: how long a statement holds is what they say. */
  let clock = 0;
  const now = () => clock;

  /** A call the test ends by hand, with the reason the function server would give. */
  function callFor(deadlineInMs = Number.POSITIVE_INFINITY) {
    const controller = new AbortController();
    const call: Call = { signal: controller.signal, deadline: clock + deadlineInMs };
    return {
      call,
      leave: () => controller.abort(new AppError('CLIENT_CLOSED', 'gone')),
      expire: () => controller.abort(new AppError('DEADLINE_EXCEEDED', 'late')),
    };
  }

  /** A statement that runs until `finish()` (or until it is killed, as the server would stop it). */
  function slowPool() {
    const running: Array<{ resolve: (v: unknown) => void; reject: (e: unknown) => void }> = [];
    const counted = poolOf(
      () =>
        new Promise((resolve, reject) => {
          running.push({ resolve, reject });
        }),
    );
    const killed: number[] = [];
    const killQuery = async (threadId: number) => {
      killed.push(threadId);
      running.shift()?.reject(
        Object.assign(new Error('Query execution was interrupted'), {
          errno: 1317,
          code: 'ER_QUERY_INTERRUPTED',
        }),
      );
    };
    const finish = () => running.shift()?.resolve([[{ ok: 1 }], []]);
    return { ...counted, killQuery, killed, finish };
  }

  const tick = () => new Promise((r) => setTimeout(r, 0));

  /** A replica's Database on the slow pool: one connection and no query limit, unless given. */
  const oneConnection = (slow: ReturnType<typeof slowPool>, options: Partial<DatabaseOptions> = {}) =>
    new Database(slow.pool, {
      concurrency: 1,
      queryTimeoutMs: 0,
      mode: 'naive',
      retryAttempts: 0,
      now,
      ...options,
    });
  /** A statement for a caller who waits `ms`. */
  const ask = (db: Database, ms: number) => db.statement('q', 'SELECT 1', [], false, callFor(ms).call);

  it('a waiter whose signal fires leaves the queue and never takes a permit', async () => {
    const gate = new Semaphore(1);
    const held = await gate.acquire();
    const controller = new AbortController();
    const waiting = gate.acquire(controller.signal);
    expect(gate.waiting).toBe(1);
    controller.abort(new Error('gone'));
    await expect(waiting).rejects.toThrow('gone');
    expect(gate.waiting).toBe(0);
    held();
    expect(gate.inUse).toBe(0);
  });

  it('drops a statement whose caller left while it waited, without touching MySQL', async () => {
    const slow = slowPool();
    const db = oneConnection(slow);
    const first = db.statement('q', 'SELECT 1');
    const { call, leave } = callFor();
    const second = db.statement('q', 'SELECT 1', [], false, call);
    await tick();
    leave();
    await expect(second).rejects.toMatchObject({ code: 'CLIENT_CLOSED', status: 499 });
    slow.finish();
    await first;
    expect(slow.lent()).toBe(1);
  });

  it('stops a running statement on the server when its deadline passes, then gives the connection back', async () => {
    const slow = slowPool();
    const db = oneConnection(slow, { killQuery: slow.killQuery });
    const { call, expire } = callFor();
    const running = db.statement('q', 'SELECT SLEEP(10)', [], false, call);
    await tick();
    expire();
    await expect(running).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED', status: 504 });
    expect(slow.killed).toEqual([1]);
    expect(slow.released()).toBe(1);
    expect(db.gate.inUse).toBe(0);
  });

  it('refuses at once with DB_QUEUE_FULL when DB_QUEUE_LIMIT statements already wait', async () => {
    const slow = slowPool();
    const db = oneConnection(slow, { queueLimit: 2 });
    const admitted = [
      db.statement('q', 'SELECT 1'),
      db.statement('q', 'SELECT 1'),
      db.statement('q', 'SELECT 1'),
    ];
    await tick();
    await expect(db.statement('q', 'SELECT 1')).rejects.toMatchObject({
      code: 'DB_QUEUE_FULL',
      status: 503,
      headers: { 'retry-after': '1' },
    });
    for (let i = 0; i < 3; i++) {
      slow.finish();
      await tick();
    }
    await Promise.all(admitted);
  });

  it('counts a statement that is running long already, so a database that just slowed down sheds at once', async () => {
    const slow = slowPool();
    const db = oneConnection(slow);
    // One quick statement: the mean hold is a few ms.
    const quick = ask(db, 60_000);
    await tick();
    slow.finish();
    await quick;
    const stuck = ask(db, 60_000);
    await tick(); // it has taken its connection
    clock += 300;
    // Behind a statement 300 ms in, a caller with 400 ms left cannot be served.
    await expect(ask(db, 400)).rejects.toMatchObject({
      code: 'DB_QUEUE_FULL',
    });
    slow.finish();
    await stuck;
  });

  it('does not start a statement whose call has less time left than a statement takes', async () => {
    const slow = slowPool();
    const db = oneConnection(slow);
    // One statement that held its connection for 300 ms: the mean is 300 ms.
    const measured = ask(db, 60_000);
    await tick(); // it has taken its connection
    clock += 300;
    slow.finish();
    await measured;
    await expect(ask(db, 100)).rejects.toMatchObject({
      code: 'DEADLINE_EXCEEDED',
      message: expect.stringMatching(/^not started/),
    });
    expect(slow.lent()).toBe(1);
  });

  it('refuses queued statements as soon as a finished one shows they cannot make their deadline', async () => {
    const slow = slowPool();
    // No query limit: before any statement finished there is nothing to judge by, so all queue.
    const db = oneConnection(slow);
    const first = ask(db, 60_000);
    await tick();
    const queued = [1, 2, 3].map(() =>
      ask(db, 1000).then(
        () => 'served',
        (err: AppError) => err.code,
      ),
    );
    await tick();
    expect(db.gate.waiting).toBe(3);
    // The first held its connection 300 ms: with 700 ms left, the first queued (300 ms to start,
    // 300 ms to run) still fits; the two behind it (from 900 ms) do not, and hear so at once.
    await tick(); // it has taken its connection
    clock += 300;
    slow.finish();
    await first;
    await tick();
    expect(db.gate.waiting).toBe(0);
    slow.finish();
    expect(await Promise.all(queued)).toEqual(['served', 'DB_QUEUE_FULL', 'DB_QUEUE_FULL']);
  });

  it('refuses a call whose deadline comes before the queue ahead of it would be served', async () => {
    const slow = slowPool();
    // Before any statement ran, each is taken to last the query time limit: 1 s here.
    const db = oneConnection(slow, { concurrency: 2, queryTimeoutMs: 1000 });
    const busy = [db.statement('q', 'SELECT 1'), db.statement('q', 'SELECT 1')];
    await tick();
    // Two run; this one would start after about half a statement and need a whole one: 1.5 s.
    await expect(ask(db, 1000)).rejects.toMatchObject({
      code: 'DB_QUEUE_FULL',
    });
    const patient = ask(db, 5000);
    await tick();
    expect(db.gate.waiting).toBe(1);
    for (let i = 0; i < 3; i++) {
      slow.finish();
      await tick();
    }
    await Promise.all([...busy, patient]);
  });
});
