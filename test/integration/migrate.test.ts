import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { migrate, passwordSecretName } from '../../mysql/migrate.ts';
import { provisionMysql } from '../../mysql/provision.ts';
import { withDatabase } from '../../mysql/server.ts';
import { ROOT } from '../support/process.ts';

const database = `sb_mig_${randomBytes(4).toString('hex')}`;
const passwords = { randstore: "st'ore-pw", randshow: 'show-pw\\', dbstats: 'stats-pw' };
let admin: mysql.Connection;

beforeAll(async () => {
  admin = await mysql.createConnection({ uri: inject('mysqlUrl') });
});
afterAll(async () => {
  await admin.query(`DROP DATABASE IF EXISTS \`${database}\``);
  await admin.end();
});

function as(user: keyof typeof passwords) {
  const u = new URL(withDatabase(inject('mysqlUrl'), database));
  u.username = user;
  u.password = passwords[user];
  return mysql.createConnection({ uri: u.toString() });
}

const insert =
  "INSERT INTO cats (source_url, mime, width, height, original_bytes, stored_bytes, sha256, encoding, image) VALUES ('u', 'image/png', 1, 1, 1, 1, REPEAT('0', 64), 'raw', 'x')";

describe('db:migrate', () => {
  it('creates the database and the cats table, and is a no-op the second time', async () => {
    const first = await migrate(inject('mysqlUrl'), { database, users: passwords });
    expect(first.applied).toEqual(['001_create_cats.sql']);
    const second = await migrate(inject('mysqlUrl'), { database, users: passwords });
    expect(second).toEqual({ applied: [], alreadyApplied: ['001_create_cats.sql'] });
    const [cols] = await admin.query<mysql.RowDataPacket[]>(`SHOW COLUMNS FROM \`${database}\`.cats`);
    expect(cols.map((c) => c.Field)).toEqual([
      'id',
      'created_at',
      'source_url',
      'mime',
      'width',
      'height',
      'original_bytes',
      'stored_bytes',
      'sha256',
      'encoding',
      'image',
    ]);
    expect(cols.find((c) => c.Field === 'image')?.Type).toBe('longblob');
  });

  it('lets randstore INSERT and SELECT cats', async () => {
    const conn = await as('randstore');
    await conn.query(insert);
    const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM cats');
    expect(Number(rows[0]?.n)).toBeGreaterThanOrEqual(1);
    await expect(conn.query('DELETE FROM cats')).rejects.toMatchObject({
      code: 'ER_TABLEACCESS_DENIED_ERROR',
    });
    await conn.end();
  });

  it.each(['randshow', 'dbstats'] as const)(
    'lets %s read cats and the server status, but not write',
    async (user) => {
      const conn = await as(user);
      await conn.query('SELECT id FROM cats LIMIT 1');
      await conn.query("SHOW GLOBAL STATUS LIKE 'Threads_connected'");
      await expect(conn.query(insert)).rejects.toMatchObject({ code: 'ER_TABLEACCESS_DENIED_ERROR' });
      await expect(conn.query('DROP TABLE cats')).rejects.toMatchObject({
        code: 'ER_TABLEACCESS_DENIED_ERROR',
      });
      await conn.end();
    },
  );

  it('lets dbstats see other users’ threads in the process list (PROCESS), and randshow only its own', async () => {
    const other = await as('randstore');
    const [[thread]] = await other.query<mysql.RowDataPacket[]>('SELECT CONNECTION_ID() AS id');
    for (const [user, seen] of [
      ['dbstats', 1],
      ['randshow', 0],
    ] as const) {
      const conn = await as(user);
      const [rows] = await conn.query<mysql.RowDataPacket[]>(
        'SELECT ID FROM information_schema.PROCESSLIST WHERE ID = ?',
        [thread?.id],
      );
      expect(rows, user).toHaveLength(seen);
      await conn.end();
    }
    await other.end();
  });
});

describe('db:migrate on a server with anonymous accounts', () => {
  it('stops with the cause and the statements that fix it, and succeeds once they are run', async () => {
    // A private server: an anonymous account would shadow every test's users on a shared one.
    const server = await provisionMysql({ env: { MYSQL_PROVISION: 'binary', PATH: process.env.PATH ?? '' } });
    const secrets = await mkdtemp(path.join(os.tmpdir(), 'sb-users-'));
    try {
      const root = await mysql.createConnection({ uri: withDatabase(server.url, '') });
      // The account a default install creates for the host this client comes from.
      const [[me]] = await root.query<mysql.RowDataPacket[]>(
        "SELECT SUBSTRING_INDEX(USER(), '@', -1) AS host",
      );
      await root.query(`CREATE USER ''@${mysql.escape(String(me?.host))}`);
      for (const [user, pw] of Object.entries(passwords))
        await writeFile(path.join(secrets, passwordSecretName(user as keyof typeof passwords)), pw);

      const run = () =>
        promisify(execFile)('npm', ['run', '-s', 'db:migrate', '--', '--users', secrets], {
          cwd: ROOT,
          env: { ...process.env, MYSQL_URL: server.url },
        });
      const failed = await run().then(
        () => undefined,
        (err: { code: number; stderr: string }) => err,
      );
      expect(failed?.code).toBe(1);
      const message = failed?.stderr.trim() ?? '';
      expect(message.split('\n')).toHaveLength(1);
      expect(message).toContain('the MySQL user randstore cannot log in with the password just set');
      expect(message).toContain('anonymous accounts');
      expect(message).not.toMatch(/at \w+ \(|node:internal/);
      const fix = message.match(/DROP USER [^;]+;/g) ?? [];
      expect(fix).toEqual([`DROP USER ''@'${me?.host}';`]);

      for (const statement of fix) await root.query(statement);
      await root.end();
      const { stdout } = await run();
      expect(stdout).toContain('users randstore, randshow, dbstats up to date');
    } finally {
      await server.close();
      await rm(secrets, { recursive: true, force: true });
    }
  });
});
