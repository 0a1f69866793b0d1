import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Autoscaler } from '../autoscale/scaler.ts';
import { calledFunction, functionNotFound, GatewayError } from '../errors.ts';
import type { GatewayMetrics } from '../metrics.ts';
import { forward, sendError } from '../proxy.ts';
import type { ReplicaSet } from '../replica-set.ts';
import { type GuardOptions, guardProblem } from './guard.ts';

export interface InvokeDeps {
  sets: ReadonlyMap<string, ReplicaSet>;
  metrics: GatewayMetrics;
  autoscaler: Autoscaler;
  upstreamTimeoutMs: number;
  /** How long a request waits for a ready replica (one starting, or being replaced). */
  readyWaitMs: number;
}

/**
 * The call of a function: the request goes, streamed as it comes, to the ready replica with
 * the fewest in flight, on the raw node:http objects (the proxy pipes bodies both ways); a
 * replica that refused the connection got nothing, so another may take it.
 */
function invoker(deps: InvokeDeps) {
  async function invoke(req: IncomingMessage, res: ServerResponse, name: string, path: string) {
    const set = deps.sets.get(name);
    if (!set || set.removed) throw functionNotFound(name);
    const start = performance.now();
    deps.metrics.started.inc({ function_name: name });
    let status = 0;
    for (let attempt = 0; status === 0; attempt++) {
      // A ready replica is the common case: no promise to wait on for it.
      const replica = set.pick() ?? (await set.waitForReplica(deps.readyWaitMs));
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

  return invoke;
}

/**
 * `ANY /function/{name}…` straight on node:http, before the other routes' framework: the
 * guard's checks on the raw headers, then the call. Returns false for any other path. The
 * invocation path is the gateway's hot one; a Fetch Request and Hono's routing would cost it
 * a third of its throughput on small answers.
 */
export function invokeListener(
  deps: InvokeDeps & GuardOptions,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const invoke = invoker(deps);
  return (req, res) => {
    const url = req.url ?? '';
    if (!url.startsWith('/function/')) return false;
    const h = req.headers;
    const problem = guardProblem(
      {
        method: req.method ?? 'GET',
        path: url,
        host: h.host,
        origin: h.origin,
        contentType: h['content-type'],
        contentLength: h['content-length'],
        transferEncoding: h['transfer-encoding'],
      },
      deps,
    );
    if (problem) {
      sendError(res, problem.code, problem.message);
      return true;
    }
    try {
      const { name, path } = calledFunction(url, 'function');
      invoke(req, res, name, path).catch((err: unknown) => answerError(res, err));
    } catch (err) {
      answerError(res, err);
    }
    return true;
  };
}

function answerError(res: ServerResponse, err: unknown): void {
  if (err instanceof GatewayError) sendError(res, err.code, err.message);
  else sendError(res, 'INTERNAL', String(err));
}
