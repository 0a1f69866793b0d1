import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import { basicAuth } from 'hono/basic-auth';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { request } from 'undici';
import { errorBody } from '../contract/errors.ts';
import { TARGET_FUNCTIONS } from '../contract/functions.ts';
import { demoRuleOf } from '../contract/openfaas.ts';
import { codedResponse } from '../functions/lib/errors.ts';
import { hostnameOf } from '../functions/lib/hosts.ts';
import { httpOrigin } from '../functions/lib/http.ts';
import { type Logger, rateLimitedWarn } from '../functions/lib/log.ts';
import { AsyncQueue } from './async.ts';
import type { PolicyName, PolicySettings } from './autoscale/policies.ts';
import { Autoscaler } from './autoscale/scaler.ts';
import { EDITIONS, POLICY_EDITION } from './editions.ts';
import { GatewayError } from './errors.ts';
import { compiledEntry } from './function-bundle.ts';
import { LiveLoad } from './live-load.ts';
import { LogStore } from './logs.ts';
import { createGatewayMetrics, type GatewayMetrics, mergeReplicaMetrics } from './metrics.ts';
import { ReplicaSet } from './replica-set.ts';
import { asyncRoutes } from './routes/async.ts';
import { type DeployDeps, deployRoutes } from './routes/deploy.ts';
import { type GuardOptions, guard } from './routes/guard.ts';
import { type InvokeDeps, invokeListener } from './routes/invoke.ts';
import { liveLoadRoutes } from './routes/live-load.ts';
import { logRoutes } from './routes/logs.ts';
import { staticRoutes } from './routes/static.ts';
import { systemRoutes } from './routes/system.ts';
import type { GatewayEnv } from './routes/types.ts';
import type { FunctionSpec } from './stack.ts';

export interface GatewayOptions {
  functions: FunctionSpec[];
  /**
   * The environment each replica of a function starts with; `all` is every function as it is
   * deployed now (a deploy changes one: its new spec is `spec`).
   */
  replicaEnv: (spec: FunctionSpec, all: readonly FunctionSpec[]) => Record<string, string>;
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
  /** Host names answered besides loopback's (see routes/guard.ts). */
  allowedHosts?: readonly string[];
  /** Origins whose pages may change state besides the gateway's own. */
  allowedOrigins?: readonly string[];
  /** Built SystemBreaker app, served at `/` when present. */
  staticDir?: string;
  log: Logger;
  onReplicaLog?: (replicaId: string, line: string) => void;
  /** /async-function's queue: how many calls it holds and runs at once, and where callbacks may go. */
  async?: { capacity: number; concurrency: number; callbackHosts: readonly string[] };
  /** Whether a secret a deploy names exists where replicas read secrets (default: yes). */
  secretExists?: (name: string) => Promise<boolean>;
}

export interface Gateway {
  url: string;
  port: number;
  sets: Map<string, ReplicaSet>;
  autoscaler: Autoscaler;
  liveLoad: LiveLoad;
  /** The replicas' recent output, as /system/logs serves it. */
  logs: LogStore;
  stop(): Promise<void>;
}

/** Largest body a /system/* request may have. */
const SYSTEM_BODY_LIMIT = 64 * 1024;

/** The gateway's metrics, then every ready replica's with a `replica` label; a replica that fails its scrape is logged. */
function scraper(sets: ReadonlyMap<string, ReplicaSet>, metrics: GatewayMetrics, log: Logger) {
  const failed = rateLimitedWarn(
    log,
    'a replica did not answer its metrics scrape; its metrics are left out',
  );
  return async (): Promise<string> => {
    const replicas = [...sets.values()].flatMap((s) => s.all().filter((r) => r.state === 'ready'));
    const texts = await Promise.all(
      replicas.map(async (r) => {
        try {
          const res = await request(`${r.url}/_/metrics`, { headersTimeout: 1000, bodyTimeout: 1000 });
          return { replica: r.id, text: await res.body.text() };
        } catch (err) {
          failed({ replica: r.id, err });
          return { replica: r.id, text: '' };
        }
      }),
    );
    return (await metrics.registry.metrics()) + mergeReplicaMetrics(texts);
  };
}

/**
 * The host names the gateway answers besides loopback's: the allowed ones, the address it
 * binds, and when it binds all addresses this machine's name and addresses.
 */
function servedHosts(options: GatewayOptions): Set<string> {
  const hosts = new Set((options.allowedHosts ?? []).map((h) => h.toLowerCase()));
  if (!['0.0.0.0', '::'].includes(options.host)) hosts.add(hostnameOf(options.host));
  else {
    hosts.add(os.hostname().toLowerCase());
    for (const addresses of Object.values(os.networkInterfaces()))
      for (const a of addresses ?? []) hosts.add(a.address.toLowerCase());
  }
  return hosts;
}

type RouteDeps = Parameters<typeof systemRoutes>[0] &
  InvokeDeps &
  Omit<DeployDeps, 'secretExists'> & { liveLoad: LiveLoad; logs: LogStore; queue: AsyncQueue };

/**
 * What answers each request: function calls straight on node:http (the hot path), everything
 * else on Hono, both behind the same guard.
 */
function requestHandler(options: GatewayOptions, deps: RouteDeps) {
  const guarded = { hosts: servedHosts(options), origins: new Set(options.allowedOrigins ?? []) };
  const invoke = invokeListener({ ...deps, ...guarded });
  const rest = getRequestListener(routes(options, deps, guarded).fetch);
  return (req: IncomingMessage, res: ServerResponse) => {
    if (!invoke(req, res)) void rest(req, res);
  };
}

/** The routes on Hono: health and metrics, the system API behind basic auth, async calls, the app. */
function routes(options: GatewayOptions, deps: RouteDeps, guarded: GuardOptions) {
  const app = new Hono<GatewayEnv>();
  app.use('*', guard(guarded));
  const scrape = scraper(deps.sets, deps.metrics, options.log);
  app.get('/healthz', (c) => c.text('OK'));
  app.get('/metrics', async (c) =>
    c.body(await scrape(), 200, { 'content-type': deps.metrics.registry.contentType }),
  );
  if (options.basicAuth) {
    app.use(
      '/system/*',
      basicAuth({
        username: options.basicAuth.user,
        password: options.basicAuth.password,
        realm: 'OpenFaaS API',
        invalidUserMessage: errorBody('UNAUTHORIZED', '/system/* needs the gateway’s basic-auth credentials'),
      }),
    );
  }
  app.use(
    '/system/*',
    bodyLimit({
      maxSize: SYSTEM_BODY_LIMIT,
      onError: () => codedResponse('BODY_TOO_LARGE', `the body must be at most ${SYSTEM_BODY_LIMIT} bytes`),
    }),
  );
  app.route('/', systemRoutes(deps));
  app.route('/', deployRoutes({ ...deps, secretExists: options.secretExists ?? (async () => true) }));
  app.route('/', logRoutes({ logs: deps.logs, has: (name) => deps.sets.get(name)?.removed === false }));
  app.route('/', liveLoadRoutes(deps.liveLoad));
  app.route('/', asyncRoutes(deps));
  if (options.staticDir) app.route('/', staticRoutes(options.staticDir));
  app.notFound((c) => codedResponse('NOT_FOUND', `no route ${c.req.method} ${c.req.path}`));
  app.onError((err, c) => {
    if (err instanceof GatewayError) return codedResponse(err.code, err.message);
    // Hono's middleware (basic auth) answers by throwing its response.
    if (err instanceof HTTPException)
      return withoutBrowserPrompt(err.getResponse(), c.req.header('sec-fetch-mode'));
    options.log.error('gateway error', { err });
    return codedResponse('INTERNAL', 'internal error');
  });
  return app;
}

/**
 * A 401 with `WWW-Authenticate: Basic` makes a browser open its own login dialog even for a
 * page's fetch(), and a headless one leaves the request hanging. A page's own requests
 * (Sec-Fetch-Mode other than navigate) get the 401 without it, so the app can ask in its own
 * form; curl, faas-cli and a browser opening the URL get the challenge as OpenFaaS sends it.
 */
function withoutBrowserPrompt(res: Response, fetchMode: string | undefined): Response {
  if (res.status !== 401 || fetchMode === undefined || fetchMode === 'navigate') return res;
  const headers = new Headers(res.headers);
  headers.delete('www-authenticate');
  return new Response(res.body, { status: res.status, headers });
}

/**
 * One replica set per function, each starting its replicas with the function's environment;
 * what the replicas write goes to the log store (and to onReplicaLog).
 */
function replicaSets(options: GatewayOptions, logs: LogStore, program: string): Map<string, ReplicaSet> {
  return new Map(
    options.functions.map((spec) => [
      spec.name,
      new ReplicaSet({
        spec,
        program,
        env: options.replicaEnv(spec, options.functions),
        log: options.log,
        onReplicaLog: (id, line) => {
          logs.add(spec.name, id, line);
          options.onReplicaLog?.(id, line);
        },
      }),
    ]),
  );
}

async function listen(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

/** Each function's first replicas (its min, at least one), waited for until ready. */
async function firstReplicas(sets: Map<string, ReplicaSet>): Promise<void> {
  for (const set of sets.values()) set.scaleTo(Math.max(set.spec.scale.min, 1));
  await Promise.all(
    [...sets.values()].map(async (set) => {
      if (!(await set.waitForReplica(30_000)))
        throw new Error(`no replica of ${set.name} became ready in 30 s`);
    }),
  );
}

/** Stops accepting, lets answers under way finish (5 s at most), then drains every replica. */
async function shutdown(server: Server, sets: Map<string, ReplicaSet>, liveLoad: LiveLoad): Promise<void> {
  await liveLoad.close();
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), 5000).unref();
  });
  await Promise.all([...sets.values()].map((s) => s.stop()));
}

/**
 * The local gateway: OpenFaaS's routes in front of replicas that are real processes,
 * with OpenFaaS's metric names and a choice of autoscaling policies.
 */
function autoscalerFor(options: GatewayOptions, sets: Map<string, ReplicaSet>): Autoscaler {
  const { policy, settings, windowMs, alertCodes, tickMs, log } = options;
  return new Autoscaler([...sets.values()], { policy, settings, windowMs, alertCodes, tickMs, log });
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const { log } = options;
  const metrics = createGatewayMetrics();
  const logs = new LogStore();
  const sets = replicaSets(options, logs, await compiledEntry());
  metrics.watchReplicas(() =>
    [...sets.values()].map((s) => ({
      name: s.name,
      desired: s.desired,
      available: s.available,
      pids: s.live.flatMap((r) => (r.pid === undefined ? [] : [r.pid])),
    })),
  );
  let port = 0;
  // The engine calls the gateway on loopback even when it binds all addresses.
  const selfHost = ['0.0.0.0', '::'].includes(options.host) ? '127.0.0.1' : options.host;
  const autoscaler = autoscalerFor(options, sets);
  const liveLoad = new LiveLoad(
    () => httpOrigin(selfHost, port),
    undefined,
    () => demoRuleOf(autoscaler.info(), TARGET_FUNCTIONS),
  );
  const queue = new AsyncQueue({
    capacity: options.async?.capacity ?? 1000,
    concurrency: options.async?.concurrency ?? 4,
    callbackHosts: new Set(options.async?.callbackHosts ?? []),
    origin: () => httpOrigin(selfHost, port),
    timeoutMs: options.upstreamTimeoutMs,
    registry: metrics.registry,
    log,
  });
  const handler = requestHandler(options, {
    queue,
    sets,
    metrics,
    autoscaler,
    liveLoad,
    logs,
    edition: EDITIONS[POLICY_EDITION[options.policy]],
    replicaEnv: (spec) =>
      options.replicaEnv(
        spec,
        [...sets.values()].map((s) => s.spec),
      ),
    log,
    upstreamTimeoutMs: options.upstreamTimeoutMs,
    readyWaitMs: options.readyWaitMs ?? 10_000,
  });
  const server = createServer({ keepAliveTimeout: 65_000 }, handler);
  port = await listen(server, options.port, options.host);

  await firstReplicas(sets);
  const ticker = setInterval(() => autoscaler.tick(), options.tickMs);
  ticker.unref();
  return {
    url: httpOrigin(options.host, port),
    port,
    sets,
    autoscaler,
    liveLoad,
    logs,
    async stop() {
      clearInterval(ticker);
      logs.close();
      queue.close();
      await shutdown(server, sets, liveLoad);
    },
  };
}
