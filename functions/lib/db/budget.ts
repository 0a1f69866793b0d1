import type { Pool } from 'mysql2/promise';
import type { Logger } from '../log.ts';
import type { Database } from './database.ts';

export interface BudgetSettings {
  /** Share of max_connections all functions may use together. */
  utilisation: number;
  /** This function's part of it. */
  share: number;
  /** The most replicas this function scales to. */
  maxReplicas: number;
}

/** Connections per replica so that every replica at max scale still fits the budget. */
export function budgetPoolSize(maxConnections: number, s: BudgetSettings): number {
  return Math.max(1, Math.floor((maxConnections * s.utilisation * s.share) / s.maxReplicas));
}

/** mysql2 reads connectionLimit on each acquire, so a pool can be resized in place. */
export function setPoolLimit(pool: Pool, limit: number): void {
  (pool as unknown as { pool: { config: { connectionLimit: number } } }).pool.config.connectionLimit = limit;
}

/**
 * Keeps the pool sized from the server's max_connections: read at start (retried until the
 * server answers) and again every minute, since max_connections can change at run time.
 */
export function maintainBudget(db: Database, settings: BudgetSettings, log: Logger): { stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let current = 0;
  const check = async () => {
    let next = 60_000;
    try {
      const [row] = await db.statement<Array<{ m: number }>>('budget', 'SELECT @@max_connections AS m');
      const size = budgetPoolSize(Number(row?.m), settings);
      if (size !== current) {
        log.info('connection budget', { maxConnections: Number(row?.m), ...settings, poolSize: size });
        setPoolLimit(db.pool, size);
        current = size;
      }
    } catch {
      next = 2000; // not reachable yet: the pool keeps its start size meanwhile
    }
    if (!stopped) timer = setTimeout(() => void check(), next).unref();
  };
  void check();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
