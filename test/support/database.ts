import { randomBytes } from 'node:crypto';
import mysql, { type Pool } from 'mysql2/promise';
import { inject } from 'vitest';
import { type MysqlConnectionSettings, mysqlSettingsFromUrl } from '../../functions/lib/config.ts';
import { createPool } from '../../functions/lib/db/pool.ts';
import { migrate } from '../../mysql/migrate.ts';
import { withDatabase } from '../../mysql/server.ts';

export interface TestDatabase {
  name: string;
  /** Admin URL with this database selected. */
  url: string;
  settings: MysqlConnectionSettings;
  /** A pool as a function replica would have it. */
  pool: Pool;
  /** Runs a query as admin. */
  query<T = mysql.RowDataPacket[]>(sql: string, values?: unknown[]): Promise<T>;
  drop(): Promise<void>;
}

/** A migrated database of its own in the suite's MySQL, dropped on dispose. */
export async function createTestDatabase(
  serverUrl = inject('mysqlUrl'),
  poolSize = 10,
): Promise<TestDatabase> {
  const name = `sb_${randomBytes(5).toString('hex')}`;
  await migrate(serverUrl, { database: name });
  const url = withDatabase(serverUrl, name);
  const settings = mysqlSettingsFromUrl(url);
  const pool = createPool(settings, {
    connectionLimit: poolSize,
    connectTimeoutMs: 3000,
    idleTimeoutMs: 60_000,
  });
  const admin = await mysql.createConnection({ uri: url });
  return {
    name,
    url,
    settings,
    pool,
    async query<T>(sql: string, values?: unknown[]) {
      const [rows] = await admin.query(sql, values);
      return rows as T;
    },
    async drop() {
      await pool.end();
      await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await admin.end();
    },
  };
}
