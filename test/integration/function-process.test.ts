import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CatSourceServer, startCatSource } from '../../catsource/server.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { type FunctionProcess, logLines, runToEnd, spawnFunction } from '../support/process.ts';

let cats: CatSourceServer;
let db: TestDatabase;
const started: FunctionProcess[] = [];

beforeAll(async () => {
  cats = await startCatSource({ slowMs: 1_500 });
  db = await createTestDatabase();
});
afterAll(async () => {
  await Promise.all(started.map((p) => p.stop('SIGKILL')));
  await db?.drop();
  await cats?.close();
});

async function replica(fn: string, env: Record<string, string> = {}) {
  const p = await spawnFunction({
    FUNCTION: fn,
    MYSQL_URL: db.url,
    CAT_SOURCE_URL: `${cats.url}/cat`,
    ...env,
  });
  started.push(p);
  return p;
}

describe('function server process', () => {
  it('serves randstore and randshow over loopback', async () => {
    const store = await replica('randstore');
    const show = await replica('randshow');
    const stored = await fetch(store.url, { method: 'POST' });
    expect(stored.status).toBe(200);
    const { id } = (await stored.json()) as { id: number };
    const shown = await fetch(`${show.url}/?format=json&strategy=random-id`);
    expect(shown.status).toBe(200);
    expect(((await shown.json()) as { id: number }).id).toBeGreaterThanOrEqual(1);
    expect(id).toBeGreaterThanOrEqual(1);
  });

  it('lets an in-flight request finish on SIGTERM, then exits 0', async () => {
    const store = await replica('randstore', { CAT_SOURCE_URL: `${cats.url}/cat?fault=slow` });
    const inFlight = fetch(store.url, { method: 'POST' });
    await expect
      .poll(
        async () => ((await (await fetch(`${store.url}/_/health`)).json()) as { inFlight: number }).inFlight,
      )
      .toBe(1);
    const exited = store.stop('SIGTERM');
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await exited).toBe(0);
    const events = logLines(store.output()).map((l) => l.msg);
    expect(events).toEqual(expect.arrayContaining(['draining', 'stopped']));
    await expect(fetch(`${store.url}/_/health`)).rejects.toThrow();
  });

  it('refuses to start on a bad variable, naming it, what is allowed and what it got', async () => {
    const { code, output } = await runToEnd(['--import', 'tsx', 'functions/server/main.ts'], {
      FUNCTION: 'randstore',
      MYSQL_URL: db.url,
      DB_POOL_SIZE: 'many',
    });
    expect(code).toBe(2);
    expect(output).toContain('DB_POOL_SIZE must be integer 1–1000; got "many"');
  });

  it('refuses to start without its secret and says how to create it', async () => {
    const { code, output } = await runToEnd(['--import', 'tsx', 'functions/server/main.ts'], {
      FUNCTION: 'randshow',
      SECRETS_DIR: '/nonexistent',
    });
    expect(code).toBe(2);
    expect(output).toContain('faas-cli secret create mysql-password');
  });
});
