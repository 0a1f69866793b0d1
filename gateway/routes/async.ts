import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { type AsyncQueue, callHeaders } from '../async.ts';
import { calledFunction, functionNotFound, GatewayError } from '../errors.ts';
import type { ReplicaSet } from '../replica-set.ts';
import type { GatewayEnv } from './types.ts';

export interface AsyncDeps {
  sets: ReadonlyMap<string, ReplicaSet>;
  queue: AsyncQueue;
}

/** Largest body an asynchronous call may carry: it waits in the gateway's memory. */
export const ASYNC_BODY_LIMIT = 1024 * 1024;

/**
 * `POST /async-function/{name}[/path]` (the CE gateway routes POST only, with or without a
 * path: faas gateway/main.go): 202 at once with X-Call-Id (the caller's, or a new one) and
 * X-Start-Time, the call queued; `faas-cli invoke --async` sends it, to `{name}.openfaas-fn`.
 */
export function asyncRoutes(deps: AsyncDeps): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  app.post(
    '/async-function/*',
    bodyLimit({
      maxSize: ASYNC_BODY_LIMIT,
      onError: () => {
        throw new GatewayError(
          'BODY_TOO_LARGE',
          `an asynchronous call's body may be at most ${ASYNC_BODY_LIMIT} bytes`,
        );
      },
    }),
    async (c) => {
      const { name, path } = calledFunction(c.env.incoming.url ?? '', 'async-function');
      const set = deps.sets.get(name);
      if (!set || set.removed) throw functionNotFound(name);
      const callbackUrl = deps.queue.callbackOf(c.req.header('x-callback-url'));
      const { 'x-callback-url': _, 'x-call-id': given, ...headers } = callHeaders(c.env.incoming.headers);
      const callId = deps.queue.submit({
        name,
        path,
        headers,
        body: Buffer.from(await c.req.arrayBuffer()),
        ...(given ? { callId: given } : {}),
        ...(callbackUrl ? { callbackUrl } : {}),
      });
      return c.body(null, 202, {
        'X-Call-Id': callId,
        'X-Start-Time': String(BigInt(Date.now()) * 1_000_000n),
      });
    },
  );
  app.all('/async-function/*', (c) => {
    throw new GatewayError('METHOD_NOT_ALLOWED', `/async-function takes POST only; got ${c.req.method}`);
  });
  return app;
}
