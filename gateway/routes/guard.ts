import type { MiddlewareHandler } from 'hono';
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
export function guard(options: GuardOptions): MiddlewareHandler<GatewayEnv> {
  return async (c, next) => {
    const host = c.req.header('host');
    if (!hostAllowed(host, options.hosts))
      return codedResponse(
        'HOST_NOT_ALLOWED',
        `this gateway does not answer to the host ${JSON.stringify(host)}`,
      );
    const path = c.req.path;
    const changing =
      CHANGING.has(c.req.method) &&
      (path.startsWith('/system/') || path.startsWith('/function/') || path.startsWith('/async-function/'));
    const origin = c.req.header('origin');
    if (changing && origin !== undefined && origin !== `http://${host}` && !options.origins.has(origin))
      return codedResponse(
        'ORIGIN_NOT_ALLOWED',
        `pages of ${JSON.stringify(origin)} may not change this gateway`,
      );
    const hasBody =
      Number(c.req.header('content-length') ?? 0) > 0 || c.req.header('transfer-encoding') !== undefined;
    const json = /^application\/json\b/i.test(c.req.header('content-type') ?? '');
    if (changing && path.startsWith('/system/') && hasBody && !json)
      return codedResponse('UNSUPPORTED_MEDIA_TYPE', '/system/* takes application/json bodies');
    await next();
  };
}
