import type { PoolStats } from '../../../contract/functions.ts';
import type { Config, MysqlConnectionSettings } from '../config.ts';
import type { Logger } from '../log.ts';
import type { FunctionMetrics } from '../metrics.ts';
import { maintainBudget } from './budget.ts';
import { Database } from './database.ts';
import { createPool, poolStats } from './pool.ts';

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
    // budget mode starts small and grows once max_connections is known.
    connectionLimit: budget ? 1 : config.DB_POOL_SIZE,
    connectTimeoutMs: config.DB_CONNECT_TIMEOUT_MS,
    idleTimeoutMs: budget ? config.DB_BUDGET_IDLE_MS : config.DB_IDLE_TIMEOUT_MS,
  });
  const db = new Database(pool, {
    queryTimeoutMs: config.DB_QUERY_TIMEOUT_MS,
    mode: config.DB_CONNECTION_MODE,
    retryAttempts: config.DB_RETRY_ATTEMPTS,
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
      )
    : undefined;
  const stats = () => poolStats(pool, config.DB_CONNECTION_MODE);
  metrics?.watchPool(stats);
  return {
    db,
    stats,
    async close() {
      sizing?.stop();
      await pool.end();
    },
  };
}
