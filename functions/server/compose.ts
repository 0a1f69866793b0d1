import type { FunctionName } from '../../contract/functions.ts';
import { createDbstats } from '../dbstats/handler.ts';
import { type Config, resolveMysqlSettings } from '../lib/config.ts';
import { withCors } from '../lib/cors.ts';
import { createCatRepository } from '../lib/db/cats.ts';
import { openDatabase } from '../lib/db/open.ts';
import { registerServerMetrics } from '../lib/db/server-metrics.ts';
import type { Handler } from '../lib/http.ts';
import { loadImageLibrary } from '../lib/image.ts';
import type { Logger } from '../lib/log.ts';
import { createMetrics, type FunctionMetrics } from '../lib/metrics.ts';
import { createCatSource } from '../lib/source.ts';
import { createRandshow } from '../randshow/handler.ts';
import { createRandstore } from '../randstore/handler.ts';

export interface BuiltFunction {
  name: FunctionName;
  handler: Handler;
  metrics: FunctionMetrics;
  /** Releases what the dependencies hold (the pool, the source's sockets). */
  close(): Promise<void>;
}

/**
 * The composition root: builds one function's dependencies once per process — one
 * pool per replica — and hands them to its handler factory.
 */
export async function buildFunction(name: FunctionName, config: Config, log: Logger): Promise<BuiltFunction> {
  const metrics = createMetrics(name, { processMetrics: true });
  const settings = await resolveMysqlSettings(config);
  const { db, stats, close } = openDatabase(config, settings, log, metrics);
  const cats = createCatRepository(db);
  const closers: Array<() => Promise<void>> = [close];
  const context = {
    metrics,
    log,
    maxBodyBytes: config.MAX_BODY_BYTES,
    // exec_timeout 0 is the watchdog's "no limit".
    ...(config.exec_timeout ? { timeoutMs: config.exec_timeout } : {}),
  };

  let handler: Handler;
  switch (name) {
    case 'randstore': {
      await loadImageLibrary();
      const source = createCatSource({
        url: config.CAT_SOURCE_URL,
        kind: config.CAT_SOURCE_KIND,
        connectTimeoutMs: config.SOURCE_CONNECT_TIMEOUT_MS,
        timeoutMs: config.SOURCE_TIMEOUT_MS,
        maxBytes: config.SOURCE_MAX_BYTES,
        maxRedirects: config.SOURCE_MAX_REDIRECTS,
      });
      closers.push(() => source.close());
      handler = createRandstore({
        ...context,
        cats,
        source,
        encoding: config.STORAGE_ENCODING,
        limits: {
          maxBytes: config.IMAGE_MAX_BYTES,
          maxDimension: config.IMAGE_MAX_DIMENSION,
          oversize: config.IMAGE_OVERSIZE,
        },
      });
      break;
    }
    case 'randshow':
      handler = createRandshow({ ...context, cats, defaultStrategy: config.RANDSHOW_STRATEGY });
      break;
    case 'dbstats':
      handler = createDbstats({ ...context, cats, pool: stats });
      registerServerMetrics(metrics.registry, cats, log);
      break;
  }

  return {
    name,
    handler: withCors(config.CORS_ORIGINS, handler),
    metrics,
    async close() {
      await Promise.allSettled(closers.map((c) => c()));
    },
  };
}
