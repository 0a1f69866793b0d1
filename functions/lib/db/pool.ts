import mysql, { type Pool } from 'mysql2/promise';
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

/**
 * Stops running statements on the server: `KILL QUERY <thread id>` sent on a connection of
 * its own (the pool's may all be busy with the very statements to stop). A user may always
 * kill its own threads, so the function's least-privilege user needs no grant for it
 * (MariaDB: KILL — "you can kill your own threads"; without SUPER/CONNECTION ADMIN only
 * those). The connection is made when first needed and closed again after a second idle.
 */
export function createQueryKiller(
  settings: MysqlConnectionSettings,
  connectTimeoutMs: number,
): { kill(threadId: number): Promise<void>; close(): Promise<void> } {
  let pool: Pool | undefined;
  return {
    async kill(threadId) {
      pool ??= mysql.createPool({
        ...settings,
        connectionLimit: 1,
        maxIdle: 0,
        idleTimeout: 1000,
        connectTimeout: connectTimeoutMs,
      });
      try {
        await pool.query('KILL QUERY ?', [threadId]);
      } catch (err) {
        // The statement's connection is gone already: there is nothing left to stop.
        if ((err as { code?: string }).code !== 'ER_NO_SUCH_THREAD') throw err;
      }
    },
    async close() {
      await pool?.end();
    },
  };
}

export interface ConnectionWatch {
  open(): number;
  busy(): number;
}

const watches = new WeakMap<Pool, ConnectionWatch>();

/**
 * The connections a pool holds open and those lent out right now, counted from its public
 * events (mysql2 keeps its own counts in private fields): `connection` when one is made,
 * `acquire`/`release` as statements take and give back one, and the connection's own
 * `end`/`error` when it closes (idle timeout, server gone).
 */
export function watchConnections(pool: Pool): ConnectionWatch {
  // One watch per pool, however many ask: each would add listeners to every connection.
  const existing = watches.get(pool);
  if (existing) return existing;
  const open = new Set<object>();
  const busy = new Set<object>();
  pool.on('connection', (conn) => {
    open.add(conn);
    const gone = () => {
      open.delete(conn);
      busy.delete(conn);
    };
    conn.once('end', gone);
    conn.once('error', gone);
  });
  pool.on('acquire', (conn) => busy.add(conn));
  pool.on('release', (conn) => busy.delete(conn));
  const watch = { open: () => open.size, busy: () => busy.size };
  watches.set(pool, watch);
  return watch;
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
