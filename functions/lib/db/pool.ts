import mysql, { type Pool } from 'mysql2/promise';
import type { PoolStats } from '../../../contract/functions.ts';
import type { MysqlConnectionSettings } from '../config.ts';
import { AppError } from '../errors.ts';

export interface PoolOptions {
  connectionLimit: number;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
}

/** One pool per process (per replica): built at start, closed on shutdown. */
export function createPool(settings: MysqlConnectionSettings, options: PoolOptions): Pool {
  return mysql.createPool({
    ...settings,
    connectionLimit: options.connectionLimit,
    // Idle connections are given back to the server: many replicas × idle pools are
    // what fills max_connections in the talk's demo.
    maxIdle: 0,
    idleTimeout: options.idleTimeoutMs,
    connectTimeout: options.connectTimeoutMs,
    waitForConnections: true,
    queueLimit: 0,
    enableKeepAlive: true,
    supportBigNumbers: true,
    bigNumberStrings: false,
    dateStrings: false,
    timezone: 'Z',
  });
}

interface CorePoolInternals {
  _allConnections: { length: number };
  _freeConnections: { length: number };
  _connectionQueue: { length: number };
  config: { connectionLimit: number };
}

/** mysql2 keeps these counts on its core pool without a public accessor. */
export function poolStats(pool: Pool, mode: PoolStats['mode']): PoolStats {
  const core = (pool as unknown as { pool: CorePoolInternals }).pool;
  return {
    total: core._allConnections.length,
    free: core._freeConnections.length,
    queued: core._connectionQueue.length,
    limit: core.config.connectionLimit,
    mode,
  };
}

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_SERVER_SHUTDOWN',
  'ER_ACCESS_DENIED_ERROR',
  'ER_BAD_DB_ERROR',
  'ER_DBACCESS_DENIED_ERROR',
  'ER_CONNECTION_KILLED',
  'POOL_CLOSED',
]);

/** MySQL 8 MAX_EXECUTION_TIME (3024) and MariaDB max_statement_time (1969). */
const QUERY_TIMEOUT_ERRNOS = new Set([3024, 1969]);
/** ER_CON_COUNT_ERROR and ER_TOO_MANY_USER_CONNECTIONS. */
const TOO_MANY_CONNECTIONS_ERRNOS = new Set([1040, 1203]);

/** Maps a mysql2 error to the stable code a caller sees; anything unknown stays internal. */
export function classifyDbError(err: unknown): unknown {
  if (err instanceof AppError) return err;
  const e = err as { code?: string; errno?: number; fatal?: boolean; message?: string };
  const reason = e.code ?? e.message ?? 'unknown';
  if (e.errno !== undefined && TOO_MANY_CONNECTIONS_ERRNOS.has(e.errno)) {
    return new AppError('DB_TOO_MANY_CONNECTIONS', 'MySQL has no free connection (max_connections reached)', {
      cause: err,
      headers: { 'retry-after': '1' },
    });
  }
  if (e.errno !== undefined && QUERY_TIMEOUT_ERRNOS.has(e.errno)) {
    return new AppError('DB_TIMEOUT', 'the query ran past its time limit and was stopped by MySQL', {
      cause: err,
    });
  }
  if (e.code === 'ER_NO_SUCH_TABLE') {
    return new AppError('DB_SCHEMA_MISSING', 'the cats table does not exist: run `npm run db:migrate`', {
      cause: err,
    });
  }
  if ((e.code && UNAVAILABLE_CODES.has(e.code)) || e.fatal) {
    return new AppError('DB_UNAVAILABLE', `MySQL is unavailable (${reason})`, {
      cause: err,
      headers: { 'retry-after': '1' },
    });
  }
  return err;
}
