import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener, type HttpBindings } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { Hono } from 'hono';
import { codedResponse } from '../functions/lib/errors.ts';
import { catSpecFrom, drawnCats, drawPool, poolPicker } from './cats.ts';
import { type CatSpec, MIME } from './draw.ts';
import { FAULTS, type Fault, MISBEHAVIOURS } from './faults.ts';

export interface CatSourceServer {
  url: string;
  port: number;
  /** Sets the fault applied to requests that do not name one. */
  setFault(fault: Fault): void;
  close(): Promise<void>;
}

export interface CatSourceServerOptions {
  host?: string;
  port?: number;
  /** Delay of `slow` and the per-chunk pause of `drip`, in ms. */
  slowMs?: number;
  /** Bytes sent by `huge`. */
  hugeBytes?: number;
}

/** The cat source's routes: /cat on the raw response, the JSON indirection, the fault switch, health. */
function routes(deps: {
  serveCat(res: ServerResponse, url: URL): Promise<void>;
  health(): { fault: Fault; served: number; pooled: number; drawn: number };
  setFault(fault: Fault): void;
}) {
  const app = new Hono<{ Bindings: HttpBindings }>();
  app.get('/cat', async (c) => {
    await deps.serveCat(c.env.outgoing, new URL(c.req.url));
    return RESPONSE_ALREADY_SENT;
  });
  app.get('/v1/images/search', (c) => {
    const url = new URL(c.req.url);
    const target = new URL('/cat', url.origin);
    for (const [k, v] of url.searchParams) target.searchParams.set(k, v);
    return c.json([{ url: target.toString() }]);
  });
  app.put('/_/fault', (c) => {
    const wanted = c.req.query('fault') as Fault;
    if (!FAULTS.includes(wanted))
      return codedResponse('BAD_REQUEST', `fault must be one of ${FAULTS.join(', ')}`);
    deps.setFault(wanted);
    return c.body(null, 204);
  });
  app.get('/_/health', (c) => c.json(deps.health()));
  app.notFound((c) => codedResponse('NOT_FOUND', `no route ${c.req.method} ${c.req.path}`));
  app.onError((err) => codedResponse('INTERNAL', String(err)));
  return app;
}

/**
 * Serves generated cat pictures (varied in size and format) and misbehaves on request,
 * so that randstore's handling of a bad upstream can be tested without the internet.
 * Routes on Hono; /cat writes on the raw response, since its faults pace the bytes.
 *   GET /cat[?format=jpeg|png|webp&width=&height=&seed=&fault=]
 *   GET /v1/images/search   → [{"url": "<this server>/cat?…"}] (TheCatAPI's shape)
 *   PUT /_/fault?fault=…     sets the fault for requests that name none
 */
export async function startCatSource(options: CatSourceServerOptions = {}): Promise<CatSourceServer> {
  const slowMs = options.slowMs ?? 30_000;
  const hugeBytes = options.hugeBytes ?? 64 * 1024 * 1024;
  let fault: Fault = 'none';
  let served = 0;
  const cat = drawnCats();
  const pool = await drawPool();
  const pooledCat = poolPicker(pool);
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
    return t;
  };

  async function serveCat(res: ServerResponse, url: URL): Promise<void> {
    const requested = url.searchParams.get('fault');
    const f: Fault = FAULTS.includes(requested as Fault) ? (requested as Fault) : fault;
    const pooled = pooledCat(url);
    const spec = pooled?.spec ?? catSpecFrom(url);
    if (f !== 'none') {
      const serveWell = (well: URL) => serveCat(res, well);
      // The pooled cat's bytes, not a second drawing of it.
      const bytesOf = (s: CatSpec) => (pooled && s === pooled.spec ? Promise.resolve(pooled.bytes) : cat(s));
      return MISBEHAVIOURS[f]({ res, url, spec, cat: bytesOf, later, serveWell, slowMs, hugeBytes });
    }
    const bytes = pooled?.bytes ?? (await cat(spec));
    served++;
    res
      .writeHead(200, {
        'content-type': MIME[spec.format],
        'content-length': bytes.byteLength,
        'cache-control': 'no-store',
      })
      .end(bytes);
  }

  const app = routes({
    serveCat,
    health: () => ({ fault, served, pooled: pool.length, drawn: cat.drawn }),
    setFault: (f) => {
      fault = f;
    },
  });
  const server = createServer(getRequestListener(app.fetch));

  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve),
  );
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    setFault(f) {
      fault = f;
    },
    close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
