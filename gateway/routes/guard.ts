import type { MiddlewareHandler } from 'hono';
import type { ErrorCode } from '../../contract/errors.ts';
import { codedResponse } from '../../functions/lib/errors.ts';
import { hostAllowed } from '../../functions/lib/hosts.ts';
import type { GatewayEnv } from './types.ts';

const CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export interface GuardOptions {
  /** Host names answered besides loopback's. */
  hosts: ReadonlySet<string>;
  /** Origins whose pages may change state, besides the gateway's own. */
  origins: ReadonlySet<string>;
}

/** What the guard looks at of a request. */
export interface Guarded {
  method: string;
  path: string;
  host: string | undefined;
  origin: string | undefined;
  contentType: string | undefined;
  contentLength: string | undefined;
  transferEncoding: string | undefined;
}

/**
 * What keeps web pages of other sites off the local gateway, before any route runs:
 * - a Host it does not serve (DNS rebinding) → 421 HOST_NOT_ALLOWED;
 * - a state-changing request (POST, PUT, PATCH, DELETE to /system, /function or /async-function) whose Origin is
 *   present and is neither the gateway's own nor an allowed one → 403 ORIGIN_NOT_ALLOWED
 *   (`null` included; no Origin at all is curl, faas-cli or k6, not a page);
 * - a /system body that is not application/json → 415, so a page's "simple" text/plain POST,
 *   which browsers send cross-site without asking, never reaches a route, and a JSON one needs
 *   a preflight the gateway never grants.
 */
export function guardProblem(
  r: Guarded,
  options: GuardOptions,
): { code: ErrorCode; message: string } | undefined {
  if (!hostAllowed(r.host, options.hosts))
    return {
      code: 'HOST_NOT_ALLOWED',
      message: `this gateway does not answer to the host ${JSON.stringify(r.host)}`,
    };
  const changing =
    CHANGING.has(r.method) &&
    (r.path.startsWith('/system/') ||
      r.path.startsWith('/function/') ||
      r.path.startsWith('/async-function/'));
  if (changing && r.origin !== undefined && r.origin !== `http://${r.host}` && !options.origins.has(r.origin))
    return {
      code: 'ORIGIN_NOT_ALLOWED',
      message: `pages of ${JSON.stringify(r.origin)} may not change this gateway`,
    };
  // Only a changing /system/ request has its body's type looked at (not the hot /function/ path).
  if (!changing || !r.path.startsWith('/system/')) return undefined;
  const hasBody = Number(r.contentLength ?? 0) > 0 || r.transferEncoding !== undefined;
  if (hasBody && !/^application\/json\b/i.test(r.contentType ?? ''))
    return { code: 'UNSUPPORTED_MEDIA_TYPE', message: '/system/* takes application/json bodies' };
  return undefined;
}

/** The guard for the routes on Hono. */
export function guard(options: GuardOptions): MiddlewareHandler<GatewayEnv> {
  return async (c, next) => {
    const problem = guardProblem(
      {
        method: c.req.method,
        path: c.req.path,
        host: c.req.header('host'),
        origin: c.req.header('origin'),
        contentType: c.req.header('content-type'),
        contentLength: c.req.header('content-length'),
        transferEncoding: c.req.header('transfer-encoding'),
      },
      options,
    );
    if (problem) return codedResponse(problem.code, problem.message);
    await next();
  };
}
