import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener, type Http2Bindings, type HttpBindings } from '@hono/node-server';
import { AppError, errorResponse } from '../lib/errors.ts';
import { hostAllowed } from '../lib/hosts.ts';
import { type Handler, handle, httpOrigin, ignoreBody } from '../lib/http.ts';
import type { Logger } from '../lib/log.ts';
import type { FunctionMetrics } from '../lib/metrics.ts';

export interface FunctionServerOptions {
  handler: Handler;
  host: string;
  port: number;
  maxBodyBytes: number;
  drainTimeoutMs: number;
  /** Host headers answered besides loopback's; `*` for any. */
  allowedHosts?: readonly string[];
  /** After SIGTERM, keep serving this long before draining (of-watchdog's grace window). */
  shutdownGraceMs?: number;
  metrics?: FunctionMetrics;
  log: Logger;
}

export interface FunctionServer {
  readonly port: number;
  readonly url: string;
  /** In-flight requests right now. */
  inFlight(): number;
  /**
   * Reports itself as going away, keeps serving for the shutdown grace, then stops
   * accepting connections, lets in-flight requests finish (up to the drain timeout) and
   * resolves. The caller closes the dependencies afterwards.
   */
  drain(): Promise<{ timedOut: boolean }>;
}

/** The path of a request target (`/_/health?x`), without parsing a URL on every request. */
function pathOf(target: string): string {
  const q = target.indexOf('?');
  return q < 0 ? target : target.slice(0, q);
}

/**
 * Everything the server answers, as one Fetch handler: `/_/health` and `/_/metrics` (not
 * function calls, so not counted), a body declared over the limit refused with 413 (counted
 * once, by handle(), as any answer), and everything else to the function's handler.
 */
function serverHandler(
  options: FunctionServerOptions,
  health: () => { stopping: boolean; inFlight: number },
) {
  const { metrics, log, maxBodyBytes } = options;
  const refuse = handle({ ...(metrics ? { metrics } : {}), log, maxBodyBytes }, async (request) => {
    const declared = Number(request.headers.get('content-length'));
    // Read and dropped in the background (up to refusedBodyCap, past which the connection is
    // cut), so the caller or the gateway reads the 413 on a connection that stays usable. Its
    // own BODY_TOO_LARGE is this very answer, so it is dropped.
    void ignoreBody(request, { maxBodyBytes }).catch(() => {});
    throw new AppError('BODY_TOO_LARGE', `the request body is ${declared} bytes; at most ${maxBodyBytes}`);
  });
  const anyHost = !options.allowedHosts || options.allowedHosts.includes('*');
  const allowed = new Set(options.allowedHosts ?? []);
  const misdirected = handle({ ...(metrics ? { metrics } : {}), log, maxBodyBytes }, async (request) => {
    throw new AppError(
      'HOST_NOT_ALLOWED',
      `this server does not answer to the host ${JSON.stringify(request.headers.get('host'))}`,
    );
  });
  // The checks read node's own request (`incoming`): asking the Fetch Request for its headers
  // would build a Headers object on every call, the larger part of this server's cost.
  // Not async: what the handler returns goes to the adapter as it is, one promise fewer a call,
  // and a response made at once (health) takes the adapter's synchronous path.
  return (request: Request, env: HttpBindings | Http2Bindings): Response | Promise<Response> => {
    const { incoming } = env;
    if (!anyHost && !hostAllowed(incoming.headers.host, allowed)) return misdirected(request);
    const path = pathOf(incoming.url ?? '/');
    if (path === '/_/health') {
      const { stopping, inFlight } = health();
      return Response.json(
        { status: stopping ? 'draining' : 'ok', inFlight },
        { status: stopping ? 503 : 200 },
      );
    }
    if (path === '/_/metrics' && metrics) {
      return metrics.registry
        .metrics()
        .then((text) => new Response(text, { headers: { 'content-type': metrics.registry.contentType } }));
    }
    if (Number(incoming.headers['content-length'] ?? 0) > maxBodyBytes) return refuse(request);
    return options.handler(request);
  };
}

/**
 * The upstream that of-watchdog (mode=http) forwards to, and what each local replica
 * runs: node:http adapted to the Fetch-API handler, plus `/_/health` and `/_/metrics`.
 */
export async function startFunctionServer(options: FunctionServerOptions): Promise<FunctionServer> {
  const { log } = options;
  const active = new Set<ServerResponse>();
  // stopping: SIGTERM seen, health says so, requests are still served (the grace window).
  // draining: no new connections; in-flight requests finish.
  let stopping = false;
  let draining = false;

  // getRequestListener builds Request/Response objects lazily, which keeps the
  // adapter close to plain node:http speed.
  const listener = getRequestListener(
    serverHandler(options, () => ({ stopping, inFlight: active.size })),
    {
      errorHandler: (err) => {
        log.error('adapter error', { err });
        return errorResponse(err);
      },
    },
  );
  // One listener for every response (no closure per request): `this` is the response.
  function closed(this: ServerResponse): void {
    active.delete(this);
    // A keep-alive socket that just went idle would hold the drain open.
    if (draining) setImmediate(() => server.closeIdleConnections());
  }
  const server = createServer({ keepAliveTimeout: 65_000 }, (req: IncomingMessage, res: ServerResponse) => {
    // The server's own paths are not requests in flight (a health check must not count itself).
    if (!req.url?.startsWith('/_/')) {
      active.add(res);
      res.on('close', closed); // fires once; on() spares once()'s wrapper
      if (draining) res.setHeader('connection', 'close');
    }
    void listener(req, res);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  return {
    port,
    url: httpOrigin(options.host, port),
    inFlight: () => active.size,
    async drain() {
      stopping = true;
      const graceMs = options.shutdownGraceMs ?? 0;
      if (graceMs > 0) {
        log.info('serving through the shutdown grace', { graceMs });
        await new Promise((r) => setTimeout(r, graceMs));
      }
      draining = true;
      for (const res of active) if (!res.headersSent) res.setHeader('connection', 'close');
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          log.warn('drain timed out; closing remaining connections', { inFlight: active.size });
          server.closeAllConnections();
          resolve({ timedOut: true });
        }, options.drainTimeoutMs);
        timer.unref();
        // close() stops accepting and, on Node >= 19, closes idle keep-alive sockets;
        // it calls back once every in-flight request has been answered.
        server.close(() => {
          clearTimeout(timer);
          resolve({ timedOut: false });
        });
        server.closeIdleConnections();
      });
    },
  };
}
