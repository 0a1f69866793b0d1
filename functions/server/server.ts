import { createServer, type IncomingMessage, ServerResponse } from 'node:http';
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
  // Calls whose handler has not finished, or whose answer is still being written.
  let inFlight = 0;
  // stopping: SIGTERM seen, health says so, requests are still served (the grace window).
  // draining: no new connections; in-flight requests finish.
  let stopping = false;
  let draining = false;

  /**
   * Every answer given while draining is its connection's last (`Connection: close`, and node
   * closes the socket after it), whether its call came before the drain or during it, so a
   * keep-alive client (the watchdog, the gateway's pool) sends nothing more on it. Checked when
   * the head is written: no per-call bookkeeping of the responses in flight.
   */
  class Answer extends ServerResponse<IncomingMessage> {
    override writeHead(...args: unknown[]): this {
      if (draining) this.shouldKeepAlive = false;
      return (super.writeHead as (...a: unknown[]) => this)(...args);
    }
  }

  // getRequestListener builds Request/Response objects lazily, which keeps the
  // adapter close to plain node:http speed.
  const listener = getRequestListener(
    serverHandler(options, () => ({ stopping, inFlight })),
    {
      errorHandler: (err) => {
        log.error('adapter error', { err });
        return errorResponse(err);
      },
    },
  );
  // One function for every call (no closure, no listener on the response): the adapter's own
  // promise settles once the handler has answered and the answer is written.
  function settled(): void {
    inFlight--;
    // A keep-alive socket answered before the drain and idle now would hold the drain open.
    if (draining) setImmediate(() => server.closeIdleConnections());
  }
  const server = createServer(
    { keepAliveTimeout: 65_000, ServerResponse: Answer },
    (req: IncomingMessage, res: ServerResponse) => {
      // The server's own paths are not requests in flight (a health check must not count itself).
      if (req.url?.startsWith('/_/')) {
        void listener(req, res);
        return;
      }
      inFlight++;
      listener(req, res).then(settled, settled);
    },
  );

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
    inFlight: () => inFlight,
    async drain() {
      stopping = true;
      const graceMs = options.shutdownGraceMs ?? 0;
      if (graceMs > 0) {
        log.info('serving through the shutdown grace', { graceMs });
        await new Promise((r) => setTimeout(r, graceMs));
      }
      draining = true;
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          log.warn('drain timed out; closing remaining connections', { inFlight });
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
