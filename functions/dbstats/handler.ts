import type { CatRepository, ServerStats, TableStats } from '../lib/db/cats.ts';
import {
  allowMethods,
  elapsedMs,
  type Handler,
  type HandlerContext,
  handle,
  ignoreBody,
  json,
} from '../lib/http.ts';
import type { PoolStats } from '../lib/metrics.ts';

export interface DbstatsDeps extends HandlerContext {
  cats: Pick<CatRepository, 'tableStats' | 'serverStats'>;
  pool?: () => PoolStats;
}

export interface DbStats extends TableStats {
  server: ServerStats;
  /** The pool of the replica that answered. */
  pool: PoolStats | null;
  ms: number;
}

/** dbstats: the database's health, for the charts beside the load. */
export function createDbstats(deps: DbstatsDeps): Handler {
  return handle(deps, async (request) => {
    // POST too: it is what `faas-cli invoke` sends; its body means nothing here.
    allowMethods(request, ['GET', 'HEAD', 'POST']);
    await ignoreBody(request, deps);
    const start = performance.now();
    const [table, server] = await Promise.all([deps.cats.tableStats(), deps.cats.serverStats()]);
    const body: DbStats = { ...table, server, pool: deps.pool?.() ?? null, ms: elapsedMs(start) };
    return json(body);
  });
}
