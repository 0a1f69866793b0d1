import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { AppError, errorResponse } from '../lib/errors.ts';
import { type Handler, httpOrigin, refusedBodyCap } from '../lib/http.ts';
import type { Logger } from '../lib/log.ts';
import type { FunctionMetrics } from '../lib/metrics.ts';

export interface FunctionServerOptions {
  handler: Handler;
  host: string;
  port: number;
  maxBodyBytes: number;
  drainTimeoutMs: number;
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

/**
 * Reads and drops a refused body, so the client (or the gateway) gets to read the 413 instead
 * of a reset connection; past a cap the connection is cut instead.
 */
function discardBody(req: IncomingMessage, limit: number): void {
  const cap = refusedBodyCap(limit);
  let seen = 0;
  req.on('data', (chunk: Buffer) => {
    seen += chunk.byteLength;
    if (seen > cap) req.socket.destroy();
  });
  req.resume();
}

function sendResponse(res: ServerResponse, response: Response): void {
  // Small fixed bodies (health, 413): no need to stream them.
  void response.text().then((text) => {
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(text);
  });
}

/**
 * The upstream that of-watchdog (mode=http) forwards to, and what each local replica
 * runs: node:http adapted to the Fetch-API handler, plus `/_/health` and `/_/metrics`.
 */
export async function startFunctionServer(options: FunctionServerOptions): Promise<FunctionServer> {
  const { log, metrics } = options;
  // getRequestListener builds Request/Response objects lazily, which keeps the
  // adapter close to plain node:http speed.
  const listener = getRequestListener((request) => options.handler(request), {
    errorHandler: (err) => {
      log.error('adapter error', { err });
      return errorResponse(err);
    },
  });
  const active = new Set<ServerResponse>();
  // stopping: SIGTERM seen, health says so, requests are still served (the grace window).
  // draining: no new connections; in-flight requests finish.
  let stopping = false;
  let draining = false;

  const server = createServer({ keepAliveTimeout: 65_000 }, (req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '/';
    if (path === '/_/health') {
      sendResponse(
        res,
        Response.json(
          { status: stopping ? 'draining' : 'ok', inFlight: active.size },
          { status: stopping ? 503 : 200 },
        ),
      );
      return;
    }
    if (path === '/_/metrics' && metrics) {
      void metrics.registry.metrics().then((text) => {
        res.writeHead(200, { 'content-type': metrics.registry.contentType });
        res.end(text);
      });
      return;
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > options.maxBodyBytes) {
      metrics?.errors.inc({ error_code: 'BODY_TOO_LARGE' });
      metrics?.requests.inc({ code: '413' });
      discardBody(req, options.maxBodyBytes);
      sendResponse(
        res,
        errorResponse(
          new AppError(
            'BODY_TOO_LARGE',
            `the request body is ${declared} bytes; at most ${options.maxBodyBytes}`,
          ),
        ),
      );
      return;
    }
    active.add(res);
    res.once('close', () => {
      active.delete(res);
      // A keep-alive socket that just went idle would hold the drain open.
      if (draining) setImmediate(() => server.closeIdleConnections());
    });
    if (draining) res.setHeader('connection', 'close');
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
