import { createHash } from 'node:crypto';
import type { RowDataPacket } from 'mysql2/promise';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CatSourceServer, startCatSource } from '../../catsource/server.ts';
import { decodeFromStorage } from '../../functions/lib/codec.ts';
import { migrate } from '../../mysql/migrate.ts';
import { provisionMysql } from '../../mysql/provision.ts';
import type { MysqlServer } from '../../mysql/server.ts';
import { type FunctionProcess, spawnFunction } from '../support/process.ts';

// A MySQL of its own: this file stops and starts it.
let server: MysqlServer;
let cats: CatSourceServer;
let store: FunctionProcess;

beforeAll(async () => {
  const { MYSQL_URL: _ignored, ...env } = process.env;
  server = await provisionMysql({ env, database: 'outage' });
  await migrate(server.url, { database: 'outage' });
  cats = await startCatSource();
  store = await spawnFunction({
    FUNCTION: 'randstore',
    MYSQL_URL: server.url,
    CAT_SOURCE_URL: `${cats.url}/cat`,
    DB_CONNECT_TIMEOUT_MS: '1000',
  });
});
afterAll(async () => {
  await store?.stop('SIGKILL');
  await cats?.close();
  await server?.close();
});

const call = async () => {
  const res = await fetch(store.url, { method: 'POST' });
  return { status: res.status, body: (await res.json()) as { error?: { code: string } } };
};

describe('database outage', () => {
  it('answers 503 DB_UNAVAILABLE while MySQL is down and recovers by itself when it returns', async () => {
    expect((await call()).status).toBe(200);

    await server.stopServer?.();
    for (let i = 0; i < 5; i++) {
      const { status, body } = await call();
      expect(status).toBe(503);
      expect(body.error?.code).toBe('DB_UNAVAILABLE');
    }

    await server.startServer?.();
    const back = Date.now();
    let last: Awaited<ReturnType<typeof call>> | undefined;
    while (Date.now() - back < 5_000) {
      last = await call();
      if (last.status === 200) break;
      expect(last.body.error?.code).toBe('DB_UNAVAILABLE');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(last?.status).toBe(200);
    expect(store.proc.exitCode).toBeNull();

    const conn = await mysql.createConnection({ uri: server.url });
    const [rows] = await conn.query<RowDataPacket[]>('SELECT image, encoding, sha256 FROM cats');
    await conn.end();
    expect(rows.length).toBeGreaterThanOrEqual(2);
    for (const r of rows) {
      expect(createHash('sha256').update(decodeFromStorage(r.image, r.encoding)).digest('hex')).toBe(
        r.sha256,
      );
    }
  });
});
