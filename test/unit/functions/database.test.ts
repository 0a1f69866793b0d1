import type { Pool } from 'mysql2/promise';
import { describe, expect, it } from 'vitest';
import { boundStatement, flavourOf } from '../../../functions/lib/db/bounded.ts';
import { budgetPoolSize } from '../../../functions/lib/db/budget.ts';
import { Database } from '../../../functions/lib/db/database.ts';
import { Semaphore } from '../../../functions/lib/db/semaphore.ts';
import { AppError } from '../../../functions/lib/errors.ts';

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
    const pool = {
      query: async () => {
        calls++;
        if (calls <= refusals)
          throw Object.assign(new Error('Too many connections'), { errno: 1040, code: 'ER_CON_COUNT_ERROR' });
        return [[{ ok: 1 }], []];
      },
    } as unknown as Pool;
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
    const pool = {
      query: async () => {
        most = Math.max(most, ++now);
        await new Promise((r) => setTimeout(r, 5));
        now--;
        return [[{ ok: 1 }], []];
      },
    } as unknown as Pool;
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
