import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCatRepository } from '../../functions/lib/db/cats.ts';
import { Database } from '../../functions/lib/db/database.ts';
import { createRandshow } from '../../functions/randshow/handler.ts';
import { seedCats } from '../../mysql/seed.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { get } from '../support/functions.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.drop());

const randshow = (queryTimeoutMs: number) =>
  createRandshow({
    cats: createCatRepository(
      new Database(db.pool, { concurrency: 10, queryTimeoutMs, mode: 'naive', retryAttempts: 0 }),
    ),
    defaultStrategy: 'order-by-rand',
  });

describe('server-side query time limit', () => {
  it('has MySQL stop a slow randshow: 504 DB_TIMEOUT and no query left running', async () => {
    await db.query('DELETE FROM cats');
    await seedCats(db.url, 6000, 4096);
    // 1 ms: ORDER BY RAND() over 6,000 rows of 4 KiB takes a few ms even warm, so it is cut short.
    const res = await randshow(1)(get('/?format=json'));
    expect(res.status).toBe(504);
    expect(await res.json()).toMatchObject({ error: { code: 'DB_TIMEOUT' } });
    const running = async () =>
      (await db.query<Array<{ Info: string | null }>>('SHOW FULL PROCESSLIST')).filter((p) =>
        p.Info?.includes('ORDER BY RAND()'),
      );
    await expect.poll(running, { timeout: 2000 }).toEqual([]);
    // The same query with room to finish answers.
    expect((await randshow(30_000)(get('/?format=json'))).status).toBe(200);
  });
});

describe('pk-subquery strategy', () => {
  it('returns every row, uniformly, even with gaps in the ids (where random-id is biased)', async () => {
    await db.query('DELETE FROM cats');
    await seedCats(db.url, 30, 256);
    // Gaps: of every three ids, two are deleted.
    const ids = (await db.query<Array<{ id: number }>>('SELECT id FROM cats ORDER BY id')).map((r) =>
      Number(r.id),
    );
    const kept = ids.filter((_, i) => i % 3 === 0);
    await db.query('DELETE FROM cats WHERE id NOT IN (?)', [kept]);
    const count = async (strategy: string, calls: number) => {
      const seen = new Map<number, number>(kept.map((id) => [id, 0]));
      const fn = randshow(5000);
      for (let i = 0; i < calls; i++) {
        const { id } = (await (await fn(get(`/?format=json&strategy=${strategy}`))).json()) as { id: number };
        seen.set(id, (seen.get(id) ?? 0) + 1);
      }
      return [...seen.values()];
    };
    const calls = 600; // 60 per row expected
    const pk = await count('pk-subquery', calls);
    expect(pk).toHaveLength(kept.length);
    // Each row within 5 standard deviations of a uniform pick.
    const expected = calls / kept.length;
    const sd = Math.sqrt(calls * (1 / kept.length) * (1 - 1 / kept.length));
    for (const n of pk) expect(Math.abs(n - expected)).toBeLessThan(5 * sd);
    // random-id lands on the row after a gap: the first row has no gap before it, so it is picked
    // about a third as often as the others.
    const rid = await count('random-id', calls);
    expect(Math.max(...rid.slice(1))).toBeGreaterThan(2 * (rid[0] as number));
  });
});
