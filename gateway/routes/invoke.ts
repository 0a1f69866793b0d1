import type { IncomingMessage, ServerResponse } from 'node:http';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { Hono } from 'hono';
import type { Autoscaler } from '../autoscale/scaler.ts';
import { calledFunction, functionNotFound } from '../errors.ts';
import type { GatewayMetrics } from '../metrics.ts';
import { forward, sendError } from '../proxy.ts';
import type { ReplicaSet } from '../replica-set.ts';
import type { GatewayEnv } from './types.ts';

export interface InvokeDeps {
  sets: ReadonlyMap<string, ReplicaSet>;
  metrics: GatewayMetrics;
  autoscaler: Autoscaler;
  upstreamTimeoutMs: number;
  /** How long a request waits for a ready replica (one starting, or being replaced). */
  readyWaitMs: number;
}

/**
 * `ANY /function/{name}…`: the request goes, streamed as it comes, to the ready replica with
 * the fewest in flight. It stays on the raw node:http objects (the proxy pipes bodies both
 * ways); a replica that refused the connection got nothing, so another may take it.
 */
export function invokeRoutes(deps: InvokeDeps): Hono<GatewayEnv> {
  async function invoke(req: IncomingMessage, res: ServerResponse, name: string, path: string) {
    const set = deps.sets.get(name);
    if (!set || set.removed) throw functionNotFound(name);
    const start = performance.now();
    deps.metrics.started.inc({ function_name: name });
    let status = 0;
    for (let attempt = 0; status === 0; attempt++) {
      const replica = await set.waitForReplica(deps.readyWaitMs);
      if (!replica) {
        status = sendError(
          res,
          'NO_REPLICAS',
          `${name} has no ready replica (replicas: ${set.desired})`,
        ).status;
        break;
      }
      replica.inFlight++;
      let result: Awaited<ReturnType<typeof forward>>;
      try {
        result = await forward(req, res, replica, path, deps.upstreamTimeoutMs);
      } finally {
        replica.inFlight--;
      }
      if (result.errorCode === 'REPLICA_FAILED') set.markFailed(replica);
      if (result.refused && attempt < 2) continue;
      status = result.refused
        ? sendError(res, 'REPLICA_FAILED', `no replica of ${name} accepted the connection`).status
        : result.status;
    }
    set.invocationCount++;
    const code = String(status);
    deps.metrics.invocations.inc({ function_name: name, code });
    deps.metrics.seconds.observe({ function_name: name, code }, (performance.now() - start) / 1000);
    deps.autoscaler.record(name, status);
  }

  const app = new Hono<GatewayEnv>();
  const handler = async (c: { env: GatewayEnv['Bindings'] }) => {
    const { incoming, outgoing } = c.env;
    const { name, path } = calledFunction(incoming.url ?? '', 'function');
    await invoke(incoming, outgoing, name, path);
    return RESPONSE_ALREADY_SENT;
  };
  app.all('/function/:name', handler);
  app.all('/function/:name/*', handler);
  return app;
}
