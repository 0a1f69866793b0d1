import type { StorageEncoding } from '../../contract/functions.ts';
import { createDbstats } from '../../functions/dbstats/handler.ts';
import { createCatRepository } from '../../functions/lib/db/cats.ts';
import { Database } from '../../functions/lib/db/database.ts';
import { poolStats } from '../../functions/lib/db/open.ts';
import { watchConnections } from '../../functions/lib/db/pool.ts';
import type { ImageLimits } from '../../functions/lib/image.ts';
import { createMetrics } from '../../functions/lib/metrics.ts';
import { createCatSource } from '../../functions/lib/source.ts';
import { createRandshow } from '../../functions/randshow/handler.ts';
import { createRandstore } from '../../functions/randstore/handler.ts';
import type { TestDatabase } from './database.ts';

export const DEFAULT_LIMITS: ImageLimits = {
  maxBytes: 5 * 1024 * 1024,
  maxDimension: 4096,
  oversize: 'reject',
};

/** The three handlers wired to a test database and a cat source URL, as the function server wires them. */
export function buildHandlers(
  db: TestDatabase,
  sourceUrl: string,
  options: { encoding?: StorageEncoding; limits?: Partial<ImageLimits>; sourceTimeoutMs?: number } = {},
) {
  const metrics = createMetrics('test');
  const connections = watchConnections(db.pool);
  const database = new Database(db.pool, {
    concurrency: 10,
    queryTimeoutMs: 5000,
    mode: 'naive',
    retryAttempts: 0,
    metrics,
  });
  const cats = createCatRepository(database);
  const source = createCatSource({
    url: sourceUrl,
    kind: 'image',
    connectTimeoutMs: 2000,
    timeoutMs: options.sourceTimeoutMs ?? 5000,
    maxBytes: 10 * 1024 * 1024,
    maxRedirects: 3,
  });
  return {
    metrics,
    source,
    randstore: createRandstore({
      cats,
      source,
      metrics,
      encoding: options.encoding ?? 'escaped-base64',
      limits: { ...DEFAULT_LIMITS, ...options.limits },
    }),
    randshow: createRandshow({ cats, metrics, defaultStrategy: 'order-by-rand' }),
    dbstats: createDbstats({ cats, metrics, pool: () => poolStats(database, connections, 'naive') }),
  };
}

export const post = (path = '/') => new Request(`http://function${path}`, { method: 'POST' });
export const get = (path = '/') => new Request(`http://function${path}`);
