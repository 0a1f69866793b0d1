import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { httpOrigin } from '../functions/lib/http.ts';
import type { Logger } from '../functions/lib/log.ts';
import type { PolicyName, PolicySettings } from './autoscale/policies.ts';
import { Autoscaler } from './autoscale/scaler.ts';
import { EDITIONS, POLICY_EDITION } from './editions.ts';
import { GatewayError, readJson } from './errors.ts';
import { LiveLoad } from './live-load.ts';
import { createGatewayMetrics, mergeReplicaMetrics } from './metrics.ts';
import { forward, sendError } from './proxy.ts';
import { ReplicaSet } from './replica-set.ts';
import type { FunctionSpec } from './stack.ts';
import { serveStatic } from './static.ts';

export interface GatewayOptions {
  functions: FunctionSpec[];
  /** The environment each replica of a function starts with. */
  replicaEnv: (spec: FunctionSpec) => Record<string, string>;
  host: string;
  port: number;
  policy: PolicyName;
  settings: PolicySettings;
  windowMs: number;
  alertCodes: '200' | '2xx';
  tickMs: number;
  upstreamTimeoutMs: number;
  /** How long a request waits for a ready replica (one starting or being replaced). */
  readyWaitMs?: number;
  basicAuth?: { user: string; password: string };
  /** Built SystemBreaker app, served at `/` when present. */
  staticDir?: string;
  log: Logger;
  onReplicaLog?: (replicaId: string, line: string) => void;
}

export interface Gateway {
  url: string;
  port: number;
  sets: Map<string, ReplicaSet>;
  autoscaler: Autoscaler;
  liveLoad: LiveLoad;
  stop(): Promise<void>;
}

const digest = (s: string) => createHash('sha256').update(s).digest();
const notFound = (name: string) =>
  new GatewayError(404, 'FUNCTION_NOT_FOUND', `no function named ${JSON.stringify(name.slice(0, 100))}`);
const noRoute = (req: IncomingMessage, path: string) =>
  new GatewayError(404, 'NOT_FOUND', `no route ${req.method} ${path}`);

/** FunctionStatus as OpenFaaS's /system/functions reports it. */
function functionStatus(spec: FunctionSpec, set: ReplicaSet) {
  return {
    name: spec.name,
    image: spec.image,
    namespace: 'openfaas-fn',
    envProcess: 'node functions/server/main.ts',
    envVars: spec.environment,
    labels: spec.labels,
    annotations: spec.annotations,
    secrets: spec.secrets,
    replicas: set.desired,
    availableReplicas: set.available,
    invocationCount: set.invocationCount,
  };
}

/**
 * The local gateway: OpenFaaS's routes in front of replicas that are real processes,
 * with OpenFaaS's metric names and a choice of autoscaling policies.
 */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const { log } = options;
  const metrics = createGatewayMetrics();
  const sets = new Map<string, ReplicaSet>();
  const specs = new Map(options.functions.map((f) => [f.name, f]));
  for (const spec of options.functions) {
    sets.set(
      spec.name,
      new ReplicaSet({
        spec,
        env: options.replicaEnv(spec),
        log,
        ...(options.onReplicaLog ? { onReplicaLog: options.onReplicaLog } : {}),
      }),
    );
  }
  metrics.watchReplicas(() =>
    [...sets.values()].map((s) => ({ name: s.name, desired: s.desired, available: s.available })),
  );
  let port = 0;
  // The engine calls the gateway on loopback even when it binds all addresses.
  const selfHost = ['0.0.0.0', '::'].includes(options.host) ? '127.0.0.1' : options.host;
  const liveLoad = new LiveLoad(() => httpOrigin(selfHost, port));
  const autoscaler = new Autoscaler(
    options.functions.map((spec) => ({ spec, set: sets.get(spec.name) as ReplicaSet })),
    {
      policy: options.policy,
      settings: options.settings,
      windowMs: options.windowMs,
      alertCodes: options.alertCodes,
      log,
    },
  );

  const authorized = (req: IncomingMessage): boolean => {
    if (!options.basicAuth) return true;
    const header = req.headers.authorization ?? '';
    if (!header.startsWith('Basic ')) return false;
    const given = Buffer.from(header.slice(6), 'base64').toString('utf8');
    return timingSafeEqual(digest(given), digest(`${options.basicAuth.user}:${options.basicAuth.password}`));
  };

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  };

  async function scrape(): Promise<string> {
    const replicas = [...sets.values()].flatMap((s) => s.all().filter((r) => r.state === 'ready'));
    const texts = await Promise.all(
      replicas.map(async (r) => {
        try {
          const res = await request(`${r.url}/_/metrics`, { headersTimeout: 1000, bodyTimeout: 1000 });
          return { replica: r.id, text: await res.body.text() };
        } catch {
          return { replica: r.id, text: '' };
        }
      }),
    );
    return (await metrics.registry.metrics()) + mergeReplicaMetrics(texts);
  }

  async function invoke(
    req: IncomingMessage,
    res: ServerResponse,
    name: string,
    path: string,
  ): Promise<void> {
    const set = sets.get(name);
    if (!set) throw notFound(name);
    const start = performance.now();
    metrics.started.inc({ function_name: name });
    let status = 0;
    // A replica that refuses the connection got nothing: the request goes to another one.
    for (let attempt = 0; status === 0; attempt++) {
      const replica = await set.waitForReplica(options.readyWaitMs ?? 10_000);
      if (!replica) {
        const message = `${name} has no ready replica (replicas: ${set.desired})`;
        status = sendError(res, 503, 'NO_REPLICAS', message).status;
        break;
      }
      replica.inFlight++;
      let result: Awaited<ReturnType<typeof forward>>;
      try {
        result = await forward(req, res, replica, path, options.upstreamTimeoutMs);
      } finally {
        replica.inFlight--;
      }
      if (result.errorCode === 'REPLICA_FAILED') set.markFailed(replica);
      if (result.refused && attempt < 2) continue;
      status = result.refused
        ? sendError(res, 502, 'REPLICA_FAILED', `no replica of ${name} accepted the connection`).status
        : result.status;
    }
    set.invocationCount++;
    const code = String(status);
    metrics.invocations.inc({ function_name: name, code });
    metrics.seconds.observe({ function_name: name, code }, (performance.now() - start) / 1000);
    autoscaler.record(name, status);
  }

  /** The server engine, driven live by the app: it loads only this gateway. */
  async function liveLoadRoute(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (path === '/system/loadgen' && req.method === 'GET') return json(res, 200, liveLoad.state());
    if (path === '/system/loadgen/events' && req.method === 'GET') return liveLoad.listen(res);
    if (path === '/system/loadgen/start' && req.method === 'POST')
      return json(res, 202, liveLoad.start(await readJson(req)));
    if (path === '/system/loadgen' && req.method === 'PATCH')
      return json(res, 200, liveLoad.update(await readJson(req)));
    if (path === '/system/loadgen/stop' && req.method === 'POST') return json(res, 202, liveLoad.stop());
    throw noRoute(req, path);
  }

  async function scaleFunction(req: IncomingMessage, res: ServerResponse, name: string): Promise<void> {
    const set = sets.get(name);
    if (!set) throw notFound(name);
    const body = ((await readJson(req)) ?? {}) as { serviceName?: unknown; replicas?: unknown };
    const replicas = Number(body.replicas);
    if (!Number.isInteger(replicas) || replicas < 0 || replicas > 100) {
      throw new GatewayError(
        400,
        'BAD_REQUEST',
        `replicas must be an integer from 0 to 100; got ${JSON.stringify(body.replicas)}`,
      );
    }
    if (body.serviceName !== undefined && body.serviceName !== name) {
      throw new GatewayError(
        400,
        'BAD_REQUEST',
        `serviceName ${JSON.stringify(body.serviceName)} does not match ${name}`,
      );
    }
    // As the edition would: CE's gateway makes 0 one replica and caps at 5, still with a 202.
    const applied = EDITIONS[POLICY_EDITION[options.policy]].manualScale(replicas);
    log.info('scaling by hand', { function: name, from: set.desired, to: applied, asked: replicas });
    set.scaleTo(applied);
    res.writeHead(202).end();
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://gateway');
    const path = url.pathname;
    const fn = /^\/function\/([^/?]+)(\/.*)?$/.exec(path);
    if (fn) return invoke(req, res, decodeURIComponent(fn[1] as string), `${fn[2] ?? '/'}${url.search}`);
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('OK');
      return;
    }
    if (path === '/metrics') {
      const text = await scrape();
      res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text);
      return;
    }
    if (path.startsWith('/system/')) {
      if (!authorized(req)) {
        res.writeHead(401, {
          'www-authenticate': 'Basic realm="OpenFaaS API"',
          'content-type': 'text/plain',
        });
        res.end('unauthorized');
        return;
      }
      if (path === '/system/functions' && req.method === 'GET') {
        return json(
          res,
          200,
          [...specs.values()].map((s) => functionStatus(s, sets.get(s.name) as ReplicaSet)),
        );
      }
      const one = /^\/system\/function\/([^/]+)$/.exec(path);
      if (one && req.method === 'GET') {
        const name = decodeURIComponent(one[1] as string);
        const spec = specs.get(name);
        if (!spec) throw notFound(name);
        return json(res, 200, functionStatus(spec, sets.get(spec.name) as ReplicaSet));
      }
      const scale = /^\/system\/scale-function\/([^/]+)$/.exec(path);
      if (scale && req.method === 'POST')
        return scaleFunction(req, res, decodeURIComponent(scale[1] as string));
      if (path === '/system/scale-events' && req.method === 'GET') return json(res, 200, autoscaler.events);
      if (path.startsWith('/system/loadgen')) return liveLoadRoute(req, res, path);
      throw noRoute(req, path);
    }
    if ((req.method === 'GET' || req.method === 'HEAD') && (await serveStatic(res, options.staticDir, path)))
      return;
    throw noRoute(req, path);
  }

  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    route(req, res).catch((err: unknown) => {
      if (err instanceof GatewayError) return void sendError(res, err.status, err.code, err.message);
      log.error('gateway error', { err, url: req.url });
      sendError(res, 500, 'INTERNAL', 'internal error');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  port = (server.address() as AddressInfo).port;

  for (const spec of options.functions) sets.get(spec.name)?.scaleTo(Math.max(spec.scale.min, 1));
  await Promise.all(
    [...sets.values()].map(async (set) => {
      const ready = await set.waitForReplica(30_000);
      if (!ready) throw new Error(`no replica of ${set.name} became ready in 30 s`);
    }),
  );
  const ticker = setInterval(() => autoscaler.tick(), options.tickMs);
  ticker.unref();

  return {
    url: httpOrigin(options.host, port),
    port,
    sets,
    autoscaler,
    liveLoad,
    async stop() {
      clearInterval(ticker);
      await liveLoad.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 5000).unref();
      });
      await Promise.all([...sets.values()].map((s) => s.stop()));
    },
  };
}
