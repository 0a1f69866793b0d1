import { type Logger, rateLimitedWarn } from '../log.ts';
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

/**
 * Keeps the pool sized from the server's max_connections: read at start (retried until the
 * server answers) and again every `recheckMs`, since max_connections can change at run time.
 */
export function maintainBudget(
  db: Database,
  settings: BudgetSettings,
  log: Logger,
  recheckMs = 60_000,
): { stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let current = db.gate.limit;
  const failed = rateLimitedWarn(log, 'could not read max_connections; the pool keeps its size meanwhile');
  const check = async () => {
    let next = recheckMs;
    try {
      const [row] = await db.statement<Array<{ m: number }>>('budget', 'SELECT @@max_connections AS m');
      const size = budgetPoolSize(Number(row?.m), settings);
      if (size !== current) {
        log.info('connection budget', { maxConnections: Number(row?.m), ...settings, poolSize: size });
        db.setLimit(size);
        current = size;
      }
    } catch (err) {
      failed({ err });
      next = 2000; // not reachable yet: asked again soon
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
