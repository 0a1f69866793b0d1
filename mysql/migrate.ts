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
    }
    return result;
  } finally {
    await conn.query('SELECT RELEASE_LOCK(?)', [`systembreaker-migrate-${options.database}`]).catch(() => {});
    await conn.end();
  }
}
