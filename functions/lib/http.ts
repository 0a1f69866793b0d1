import { type Call, startCall } from './call.ts';
import { AppError, errorResponse } from './errors.ts';
import { type Logger, silentLogger } from './log.ts';
import type { FunctionMetrics } from './metrics.ts';

/** The whole function contract: web-standard Request in, Response out. */
export type Handler = (request: Request) => Promise<Response>;

export interface HandlerContext {
  metrics?: FunctionMetrics;
  log?: Logger;
  /** Largest request body read (and ignored) where a body means nothing; 64 KiB if unset. */
  maxBodyBytes?: number;
  /** The longest a request may take (the watchdog's exec_timeout); a caller may ask for less. */
  timeoutMs?: number;
}

/** A handler's body: the request, and the bounds its work must keep to. */
export type HandlerBody = (request: Request, call: Call) => Promise<Response>;

const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

/**
 * Wraps a handler body so that every outcome is a Response: AppErrors become their
 * status and code, anything else a 500 whose details stay in the log. The body gets the
 * request's Call: work for a caller who left, or past the deadline, is stopped.
 */
export function handle(context: HandlerContext, body: HandlerBody): Handler {
  const log = context.log ?? silentLogger;
  return async (request) => {
    let response: Response;
    let call: ReturnType<typeof startCall> | undefined;
    try {
      call = startCall(request, context.timeoutMs);
      response = await body(request, call);
    } catch (err) {
      response = errorResponse(err);
      const code = err instanceof AppError ? err.code : 'INTERNAL';
      context.metrics?.errors.inc({ error_code: code });
      const fields = { code, status: response.status, method: request.method, url: request.url, err };
      if (response.status >= 500) log.error('request failed', fields);
      else log.info('request rejected', fields);
    } finally {
      call?.end();
    }
    context.metrics?.requests.inc({ code: String(response.status) });
    return response;
  };
}

export function allowMethods(request: Request, methods: readonly string[]): void {
  if (!methods.includes(request.method)) {
    throw new AppError(
      'METHOD_NOT_ALLOWED',
      `${request.method} is not allowed here; use ${methods.join(' or ')}`,
      {
        headers: { allow: methods.join(', ') },
      },
    );
  }
}

/**
 * How much of a refused body is still read (and dropped) so that the caller, or the gateway
 * in front, reads the 413 on a connection that stays usable; past it the connection is cut.
 */
export function refusedBodyCap(limit: number): number {
  return Math.max(limit * 16, 8 * 1024 * 1024);
}

/**
 * Reads and drops a body the function has no use for (`faas-cli invoke` POSTs stdin to
 * every function). A chunked body without Content-Length is bounded too: over the limit the
 * caller gets 413, once the body has been read up to refusedBodyCap (past that, the read is
 * cancelled, which cuts the connection).
 */
export async function ignoreBody(request: Request, context: HandlerContext): Promise<void> {
  const limit = context.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!request.body) return;
  const reader = request.body.getReader();
  let seen = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    seen += value.byteLength;
    if (seen > refusedBodyCap(limit)) {
      await reader.cancel();
      break;
    }
  }
  if (seen > limit) throw new AppError('BODY_TOO_LARGE', `the request body is over ${limit} bytes`);
}

/** Reads an optional query parameter that must be one of a fixed set of values. */
export function choiceParam<T extends string>(url: URL, name: string, allowed: readonly T[], fallback: T): T {
  const value = url.searchParams.get(name);
  if (value === null || value === '') return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new AppError(
    'BAD_REQUEST',
    `${name} must be one of ${allowed.join(', ')}; got ${JSON.stringify(value.slice(0, 100))}`,
  );
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return Response.json(body, { status, headers: { 'cache-control': 'no-store', ...headers } });
}

/** Milliseconds since a start taken with performance.now(), rounded to 0.01 ms. */
export function elapsedMs(start: number): number {
  return Math.round((performance.now() - start) * 100) / 100;
}

/** `http://host:port`, with an IPv6 host in brackets. */
export function httpOrigin(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
