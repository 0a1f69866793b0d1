import { randomBytes, randomInt } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener, type HttpBindings } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { Hono } from 'hono';
import { errorBody } from '../contract/errors.ts';
import { CAT_FORMATS, type CatFormat, type CatSpec, drawCat, MIME } from './draw.ts';

/** Ways the local cat source can be told to misbehave, per request (`?fault=`) or for every request. */
export const FAULTS = [
  'none',
  'html',
  'not-image',
  '404',
  '500',
  'slow',
  'drip',
  'huge',
  'truncated',
  'redirect-loop',
] as const;
export type Fault = (typeof FAULTS)[number];

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

const SIZES: ReadonlyArray<readonly [number, number]> = [
  [160, 120],
  [320, 240],
  [400, 400],
  [480, 360],
  [640, 480],
  [800, 600],
];
const VARIANTS = 48;
const CACHE_LIMIT = 256;

function intParam(url: URL, name: string, min: number, max: number): number | undefined {
  const raw = url.searchParams.get(name);
  if (raw === null) return undefined;
  const n = Number(raw);
  return Number.isInteger(n) && n >= min && n <= max ? n : undefined;
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
  const cache = new Map<string, Promise<Buffer>>();
  let fault: Fault = 'none';
  let served = 0;
  const timers = new Set<NodeJS.Timeout>();

  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
    return t;
  };

  function cat(spec: CatSpec): Promise<Buffer> {
    const key = `${spec.seed}:${spec.format}:${spec.width}x${spec.height}`;
    let entry = cache.get(key);
    if (!entry) {
      if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
      entry = drawCat(spec);
      entry.catch(() => cache.delete(key));
      cache.set(key, entry);
    }
    return entry;
  }

  function specFrom(url: URL): CatSpec {
    const [w, h] = SIZES[randomInt(SIZES.length)] as readonly [number, number];
    const format = url.searchParams.get('format');
    return {
      seed: intParam(url, 'seed', 0, 2 ** 31) ?? randomInt(VARIANTS),
      width: intParam(url, 'width', 1, 10_000) ?? w,
      height: intParam(url, 'height', 1, 10_000) ?? h,
      format: CAT_FORMATS.includes(format as CatFormat)
        ? (format as CatFormat)
        : (CAT_FORMATS[randomInt(3)] as CatFormat),
    };
  }

  async function serveCat(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const requested = url.searchParams.get('fault');
    const f: Fault = FAULTS.includes(requested as Fault) ? (requested as Fault) : fault;
    const spec = specFrom(url);
    switch (f) {
      case 'html':
        res
          .writeHead(200, { 'content-type': 'text/html' })
          .end('<!doctype html><p>Sorry, no cats today.</p>');
        return;
      case 'not-image':
        // Lies about its type: randstore must decide by the bytes, not the header.
        res.writeHead(200, { 'content-type': 'image/jpeg' }).end(randomBytes(4096));
        return;
      case '404':
      case '500':
        res.writeHead(Number(f), { 'content-type': 'text/plain' }).end(`fault ${f}`);
        return;
      case 'redirect-loop': {
        // A new URL each hop, so only a redirect limit stops the client.
        const next = new URL(url);
        next.searchParams.set('hop', String((intParam(url, 'hop', 0, 1e9) ?? 0) + 1));
        res.writeHead(302, { location: `${next.pathname}${next.search}` }).end();
        return;
      }
      case 'slow': {
        const timer = later(slowMs, () => void serveCat(req, res, withoutFault(url)));
        res.once('close', () => clearTimeout(timer));
        return;
      }
      case 'drip': {
        const bytes = await cat(spec);
        res.writeHead(200, { 'content-type': MIME[spec.format], 'content-length': bytes.byteLength });
        let offset = 0;
        const step = () => {
          if (res.destroyed) return;
          res.write(bytes.subarray(offset, offset + 64));
          offset += 64;
          if (offset >= bytes.byteLength) res.end();
          else later(slowMs / 10, step);
        };
        step();
        return;
      }
      case 'huge': {
        res.writeHead(200, { 'content-type': 'image/png', 'content-length': hugeBytes });
        const chunk = Buffer.alloc(64 * 1024, 0x42);
        let left = hugeBytes;
        const pump = () => {
          while (left > 0 && !res.destroyed) {
            const n = Math.min(left, chunk.byteLength);
            left -= n;
            if (!res.write(chunk.subarray(0, n))) return void res.once('drain', pump);
          }
          if (!res.destroyed) res.end();
        };
        pump();
        return;
      }
      case 'truncated': {
        const bytes = await cat(spec);
        const half = bytes.subarray(0, Math.floor(bytes.byteLength / 2));
        res
          .writeHead(200, { 'content-type': MIME[spec.format], 'content-length': half.byteLength })
          .end(half);
        return;
      }
      case 'none': {
        const bytes = await cat(spec);
        served++;
        res
          .writeHead(200, {
            'content-type': MIME[spec.format],
            'content-length': bytes.byteLength,
            'cache-control': 'no-store',
          })
          .end(bytes);
        return;
      }
    }
  }

  function withoutFault(url: URL): URL {
    const copy = new URL(url);
    copy.searchParams.set('fault', 'none');
    return copy;
  }

  const app = new Hono<{ Bindings: HttpBindings }>();
  app.get('/cat', async (c) => {
    await serveCat(c.env.incoming, c.env.outgoing, new URL(c.req.url));
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
      return c.json(errorBody('BAD_REQUEST', `fault must be one of ${FAULTS.join(', ')}`), 400);
    fault = wanted;
    return c.body(null, 204);
  });
  app.get('/_/health', (c) => c.json({ fault, served }));
  app.notFound((c) => c.json(errorBody('NOT_FOUND', `no route ${c.req.method} ${c.req.path}`), 404));
  app.onError((err, c) => c.json(errorBody('INTERNAL', String(err)), 500));
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
