import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import { FUNCTION_NAMES, type FunctionName } from '../contract/functions.ts';
import { withDatabase } from './server.ts';

/**
 * The sql/ folder beside the nearest package.json above this module: the repository when
 * run from source (mysql/migrate.ts), the image's WORKDIR when compiled (dist/mysql/migrate.js
 * in /home/app, where the Dockerfile copies sql/ next to package.json).
 */
function findSqlDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir)
      throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}: cannot find sql/`);
    dir = parent;
  }
  return path.join(dir, 'sql');
}

export const SQL_DIR = findSqlDir();

/** Each function gets a database user of its own; this secret holds its password. */
export const passwordSecretName = (user: FunctionName) => `${user}-mysql-password`;

export interface MigrateOptions {
  database: string;
  /** Passwords of the least-privilege users; users are created or updated when given. */
  users?: Record<FunctionName, string>;
  migrationsDir?: string;
}

export interface MigrateResult {
  applied: string[];
  alreadyApplied: string[];
}

/** Fills the `{{name}}` placeholders of users.sql, escaping every value for MySQL. */
export function renderUsersSql(
  template: string,
  database: string,
  users: Record<FunctionName, string>,
): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    if (name === 'database') return mysql.escapeId(database);
    const user = name.replace(/_password$/, '') as FunctionName;
    if (!FUNCTION_NAMES.includes(user) || !name.endsWith('_password')) {
      throw new Error(`users.sql has an unknown placeholder {{${name}}}`);
    }
    return mysql.escape(users[user]);
  });
}

/** A function user that was just given its password still cannot log in. */
export class FunctionLoginError extends Error {
  override readonly name = 'FunctionLoginError';
  readonly code = 'FUNCTION_USER_LOGIN_FAILED';
}

/**
 * Logs in as each function user, as the functions will, and reads the table it is granted.
 * The usual reason it fails with the password just set: anonymous accounts (`''@'localhost'`,
 * as a default `mariadb-install-db` or an old `mysql_install_db` creates). The server sorts
 * accounts by host first, most specific first, so for a client coming from `localhost` the
 * anonymous `''@'localhost'` is chosen before `'randstore'@'%'` and the password is refused
 * (MySQL reference manual, "Access Control, Stage 1: Connection Verification").
 */
async function checkLogins(
  admin: mysql.Connection,
  adminUrl: string,
  database: string,
  users: Record<FunctionName, string>,
): Promise<void> {
  for (const user of FUNCTION_NAMES) {
    const url = new URL(withDatabase(adminUrl, database));
    url.username = user;
    url.password = users[user];
    try {
      const conn = await mysql.createConnection({ uri: url.toString() });
      await conn.query('SELECT 1 FROM cats LIMIT 0').finally(() => conn.end());
    } catch (err) {
      const e = err as { code?: string; message?: string };
      if (e.code !== 'ER_ACCESS_DENIED_ERROR' && e.code !== 'ER_DBACCESS_DENIED_ERROR') throw err;
      const [anonymous] = await admin.query<mysql.RowDataPacket[]>(
        "SELECT Host FROM mysql.user WHERE User = '' ORDER BY Host",
      );
      const accounts = anonymous.map((r) => `''@${mysql.escape(String(r.Host))}`);
      throw new FunctionLoginError(
        accounts.length
          ? `the MySQL user ${user} cannot log in with the password just set (${e.code}): the server has ` +
              `anonymous accounts (${accounts.join(', ')}), which MySQL matches before '${user}'@'%' for ` +
              `clients from those hosts. Drop them as an admin, as mysql_secure_installation does: ` +
              `${accounts.map((a) => `DROP USER ${a};`).join(' ')}`
          : `the MySQL user ${user} cannot log in with the password just set (${e.code}: ${e.message}); ` +
              `check the accounts for '${user}' in mysql.user and the server's authentication plugins`,
      );
    }
  }
}

/**
 * Creates the database, applies the migrations in sql/migrations not yet applied
 * (recorded in schema_migrations), and optionally the function users. Idempotent,
 * and serialised by a named lock so concurrent callers do not race.
 */
export async function migrate(adminUrl: string, options: MigrateOptions): Promise<MigrateResult> {
  const dir = options.migrationsDir ?? path.join(SQL_DIR, 'migrations');
  const conn = await mysql.createConnection({ uri: withDatabase(adminUrl, ''), multipleStatements: true });
  const db = mysql.escapeId(options.database);
  try {
    await conn.query('SELECT GET_LOCK(?, 60)', [`systembreaker-migrate-${options.database}`]);
    await conn.query(`CREATE DATABASE IF NOT EXISTS ${db} CHARACTER SET utf8mb4`);
    await conn.query(`USE ${db}`);
    await conn.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         version VARCHAR(255) NOT NULL PRIMARY KEY,
         applied_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
       )`,
    );
    const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT version FROM schema_migrations');
    const done = new Set(rows.map((r) => String(r.version)));
    const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
    const result: MigrateResult = { applied: [], alreadyApplied: [] };
    for (const file of files) {
      if (done.has(file)) {
        result.alreadyApplied.push(file);
        continue;
      }
      await conn.query(await readFile(path.join(dir, file), 'utf8'));
      await conn.query('INSERT INTO schema_migrations (version) VALUES (?)', [file]);
      result.applied.push(file);
    }
    if (options.users) {
      const template = await readFile(path.join(SQL_DIR, 'users.sql'), 'utf8');
      await conn.query(renderUsersSql(template, options.database, options.users));
      await checkLogins(conn, adminUrl, options.database, options.users);
    }
    return result;
  } finally {
    await conn.query('SELECT RELEASE_LOCK(?)', [`systembreaker-migrate-${options.database}`]).catch(() => {});
    await conn.end();
  }
}
