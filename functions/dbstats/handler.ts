import type { DbStats, PoolStats } from '../../contract/functions.ts';
import type { CatRepository } from '../lib/db/cats.ts';
import {
  allowMethods,
  elapsedMs,
  type Handler,
  type HandlerContext,
  handle,
  ignoreBody,
  json,
} from '../lib/http.ts';

export interface DbstatsDeps extends HandlerContext {
  cats: Pick<CatRepository, 'tableStats' | 'serverStats'>;
  pool?: () => PoolStats;
}

/** dbstats: the database's health, for the charts beside the load. */
export function createDbstats(deps: DbstatsDeps): Handler {
  return handle(deps, async (request, call) => {
    // POST too: it is what `faas-cli invoke` sends; its body means nothing here.
    allowMethods(request, ['GET', 'HEAD', 'POST']);
    await ignoreBody(request, deps);
    const start = performance.now();
    // One after the other: run together, the table count would show in the server's
    // Threads_running as a query of someone else's.
    const server = await deps.cats.serverStats(call);
    const table = await deps.cats.tableStats(call);
    const body: DbStats = { ...table, server, pool: deps.pool?.() ?? null, ms: elapsedMs(start) };
    return json(body);
  });
}
