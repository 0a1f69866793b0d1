import { Hono } from 'hono';
import { stream } from 'hono/streaming';
import type { LogMessage } from '../../contract/openfaas.ts';
import { checkNamespace, functionNotFound, GatewayError } from '../errors.ts';
import type { LogQuery, LogStore } from '../logs.ts';
import { relay } from './relay.ts';
import type { GatewayEnv } from './types.ts';

export interface LogDeps {
  logs: LogStore;
  /** Whether a function of this name is deployed. */
  has: (name: string) => boolean;
}

/** Go's strconv.ParseBool, as faas-provider reads `follow` (anything else: false). */
const goBool = (v: string | undefined) => ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v ?? '');
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

/**
 * The query faas-cli sends (proxy/logs.go: name, namespace, instance, since in RFC 3339, tail,
 * follow), read as faas-provider's logs/handler.go parseRequest does; what does not parse
 * there is a 422 here too.
 */
function parseQuery(q: (key: string) => string | undefined): LogQuery & { follow: boolean } {
  const name = q('name') ?? '';
  if (!name) throw new GatewayError('BAD_LOG_REQUEST', 'could not parse the log request: name is required');
  const since = q('since');
  if (since !== undefined && (!RFC3339.test(since) || Number.isNaN(Date.parse(since))))
    throw new GatewayError(
      'BAD_LOG_REQUEST',
      `could not parse the log request: since must be RFC 3339; got ${JSON.stringify(since.slice(0, 60))}`,
    );
  const tail = q('tail');
  if (tail !== undefined && !/^[+-]?\d+$/.test(tail))
    throw new GatewayError(
      'BAD_LOG_REQUEST',
      `could not parse the log request: tail must be an integer; got ${JSON.stringify(tail.slice(0, 60))}`,
    );
  const instance = q('instance');
  return {
    name,
    tail: tail === undefined ? 0 : Number(tail),
    follow: goBool(q('follow')),
    ...(instance ? { instance } : {}),
    ...(since ? { since: new Date(since) } : {}),
  };
}

/**
 * `GET /system/logs`: the replicas' output as newline-delimited JSON messages, as faas-cli
 * logs reads them; with follow=true the answer stays open and streams new lines until the
 * client leaves.
 */
export function logRoutes(deps: LogDeps): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  app.get('/system/logs', (c) => {
    checkNamespace(c.req.query('namespace'));
    const query = parseQuery((k) => c.req.query(k));
    if (!deps.has(query.name)) throw functionNotFound(query.name);
    c.header('content-type', 'application/x-ndjson');
    c.header('cache-control', 'no-store');
    return stream(c, async (out) => {
      const line = (m: LogMessage) => `${JSON.stringify(m)}\n`;
      for (const m of deps.logs.query(query)) await out.write(line(m));
      if (!query.follow) return;
      await relay(
        (push: (m: LogMessage) => void, end) => deps.logs.follow(query, push, end),
        (m) => out.write(line(m)),
        (stop) => out.onAbort(stop),
      );
    });
  });
  return app;
}
