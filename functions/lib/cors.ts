import type { Handler } from './http.ts';

/** Headers the SystemBreaker app reads from answers it gets across origins. */
const EXPOSED = 'x-cat-id, x-randshow-strategy, server-timing, retry-after';

/**
 * CORS for the configured origins only (`*` allows any), so SystemBreaker served from
 * elsewhere can call a real gateway. Preflights are answered here, before the handler,
 * which never sees OPTIONS.
 */
export function withCors(allowed: readonly string[], handler: Handler): Handler {
  const any = allowed.includes('*');
  const allows = (origin: string | null): origin is string =>
    origin !== null && (any || allowed.includes(origin));
  return async (request) => {
    const origin = request.headers.get('origin');
    if (request.method === 'OPTIONS') {
      const headers: Record<string, string> = { allow: 'GET, HEAD, POST, OPTIONS', vary: 'Origin' };
      if (allows(origin)) {
        headers['access-control-allow-origin'] = origin;
        headers['access-control-allow-methods'] = 'GET, HEAD, POST, OPTIONS';
        headers['access-control-allow-headers'] =
          request.headers.get('access-control-request-headers') ?? 'content-type';
        headers['access-control-max-age'] = '600';
      }
      return new Response(null, { status: 204, headers });
    }
    const response = await handler(request);
    if (allows(origin)) {
      response.headers.set('access-control-allow-origin', origin);
      response.headers.set('access-control-expose-headers', EXPOSED);
      response.headers.append('vary', 'Origin');
    }
    return response;
  };
}
