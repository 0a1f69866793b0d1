import type { PoolStats } from '../../../contract/functions.ts';
import type { Config, MysqlConnectionSettings } from '../config.ts';
import type { Logger } from '../log.ts';
import type { FunctionMetrics } from '../metrics.ts';
import { maintainBudget } from './budget.ts';
import { Database } from './database.ts';
import { createPool, createQueryKiller, watchConnections } from './pool.ts';

/** A replica's pool as dbstats and the metrics report it: connections from the pool's events, the rest from our semaphore. */
export function poolStats(
  db: Database,
  connections: ReturnType<typeof watchConnections>,
  mode: PoolStats['mode'],
): PoolStats {
  const open = connections.open();
  return {
    total: open,
    free: Math.max(0, open - connections.busy()),
    queued: db.gate.waiting,
    limit: db.gate.limit,
    mode,
  };
}

/** mysql2's own connection limit in budget mode: above any budget max_connections allows. */
const BUDGET_POOL_CEILING = 10_000;

export interface OpenDatabase {
  db: Database;
  stats: () => PoolStats;
  close(): Promise<void>;
}

/**
 * The replica's one pool, in the configured connection mode: naive (DB_POOL_SIZE, kept
 * idle for DB_IDLE_TIMEOUT_MS) or budget (sized from max_connections, idling out fast,
 * retrying refused connections).
 */
export function openDatabase(
  config: Config,
  settings: MysqlConnectionSettings,
  log: Logger,
  metrics?: FunctionMetrics,
): OpenDatabase {
  const budget = config.DB_CONNECTION_MODE === 'budget';
  const pool = createPool(settings, {
    // Our semaphore (Database) is the limit; mysql2's is a ceiling the budget never reaches.
    connectionLimit: budget ? BUDGET_POOL_CEILING : config.DB_POOL_SIZE,
    connectTimeoutMs: config.DB_CONNECT_TIMEOUT_MS,
    idleTimeoutMs: budget ? config.DB_BUDGET_IDLE_MS : config.DB_IDLE_TIMEOUT_MS,
  });
  const connections = watchConnections(pool);
  const killer = createQueryKiller(settings, config.DB_CONNECT_TIMEOUT_MS);
  const db = new Database(pool, {
    // budget mode starts at one connection and grows once max_connections is known.
    concurrency: budget ? 1 : config.DB_POOL_SIZE,
    queryTimeoutMs: config.DB_QUERY_TIMEOUT_MS,
    mode: config.DB_CONNECTION_MODE,
    retryAttempts: config.DB_RETRY_ATTEMPTS,
    ...(config.DB_QUEUE_LIMIT === undefined ? {} : { queueLimit: config.DB_QUEUE_LIMIT }),
    killQuery: killer.kill,
    log,
    ...(metrics ? { metrics } : {}),
  });
  const sizing = budget
    ? maintainBudget(
        db,
        {
          utilisation: config.DB_BUDGET_UTILISATION,
          share: config.DB_BUDGET_SHARE,
          maxReplicas: config.DB_BUDGET_MAX_REPLICAS,
        },
        log,
        config.DB_BUDGET_RECHECK_MS,
      )
    : undefined;
  const stats = () => poolStats(db, connections, config.DB_CONNECTION_MODE);
  metrics?.watchPool(stats);
  return {
    db,
    stats,
    async close() {
      sizing?.stop();
      await Promise.all([pool.end(), killer.close()]);
    },
  };
}
