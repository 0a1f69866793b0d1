import { Hono } from 'hono';
import {
  type FunctionStatus,
  type GatewayInfo,
  OPENFAAS_NAMESPACE,
  scaleRequest,
} from '../../contract/openfaas.ts';
import type { Logger } from '../../functions/lib/log.ts';
import { MANUAL_SCALE_FATE } from '../autoscale/policies.ts';
import type { Autoscaler } from '../autoscale/scaler.ts';
import type { Edition } from '../editions.ts';
import { checkNamespace, functionNotFound, GatewayError, readJson, splitFunctionName } from '../errors.ts';
import type { ReplicaSet } from '../replica-set.ts';
import { UsageMeter } from '../usage.ts';
import { gatewayInfo } from '../version.ts';
import type { GatewayEnv } from './types.ts';

export interface SystemDeps {
  sets: ReadonlyMap<string, ReplicaSet>;
  autoscaler: Autoscaler;
  /** The OpenFaaS the scaling policy plays: what a manual scale is made into. */
  edition: Edition;
  log: Logger;
}

/**
 * The environment the replicas run with, as the user should see it: the local MySQL, cat
 * source and pool settings rather than stack.yml's cluster values. PATH is this machine's,
 * not the function's; nothing that names a credential is shown (secrets are files anyway).
 */
function effectiveEnv(env: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter(([k]) => k !== 'PATH' && !/PASSWORD|TOKEN|SECRET$|CREDENTIAL/i.test(k)),
  );
}

/**
 * What the function image runs (deploy/function-image/Dockerfile's `fprocess`; a test holds
 * the two together). faas-netes reports a deploy's `envProcess`, and this when there is none.
 */
export const IMAGE_FPROCESS = 'node dist/functions/server/main.js';

/** FunctionStatus as OpenFaaS's /system/functions reports it; usage as its replicas' processes show it. */
async function functionStatus(set: ReplicaSet, meter: UsageMeter): Promise<FunctionStatus> {
  const { spec } = set;
  const usage = await meter.measure(set.live.flatMap((r) => (r.pid === undefined ? [] : [r.pid])));
  return {
    name: spec.name,
    image: spec.image,
    namespace: OPENFAAS_NAMESPACE,
    envProcess: spec.envProcess ?? IMAGE_FPROCESS,
    envVars: effectiveEnv(set.env),
    labels: spec.labels,
    annotations: spec.annotations,
    secrets: spec.secrets,
    replicas: set.desired,
    availableReplicas: set.available,
    invocationCount: set.invocationCount,
    ...(usage ? { usage } : {}),
  };
}

/** OpenFaaS's system API: the functions, one function, scaling by hand, and the scale events. */
export function systemRoutes(deps: SystemDeps): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  // Read on first ask, not at start-up: it runs git once.
  let info: GatewayInfo | undefined;
  const setOf = (raw: string, namespace?: string) => {
    checkNamespace(namespace);
    const name = splitFunctionName(raw);
    const set = deps.sets.get(name);
    if (!set || set.removed) throw functionNotFound(name);
    return set;
  };

  app.get('/system/info', (c) => {
    info ??= gatewayInfo();
    return c.json(info);
  });
  app.get('/system/namespaces', (c) => c.json([OPENFAAS_NAMESPACE]));
  // One meter per function: it remembers each replica's last CPU reading.
  const meters = new Map<string, UsageMeter>();
  const statusOf = (set: ReplicaSet) => {
    const meter = meters.get(set.name) ?? new UsageMeter();
    meters.set(set.name, meter);
    return functionStatus(set, meter);
  };
  app.get('/system/functions', async (c) => {
    checkNamespace(c.req.query('namespace'));
    return c.json(await Promise.all([...deps.sets.values()].filter((s) => !s.removed).map(statusOf)));
  });
  app.get('/system/function/:name', async (c) =>
    c.json(await statusOf(setOf(c.req.param('name'), c.req.query('namespace')))),
  );
  app.get('/system/scale-events', (c) => c.json(deps.autoscaler.events));
  // Not an OpenFaaS route: the local gateway's policy and alert rule, for npm run demo.
  app.get('/system/scaling', (c) => c.json(deps.autoscaler.info()));

  app.post('/system/scale-function/:name', async (c) => {
    const set = setOf(c.req.param('name'), c.req.query('namespace'));
    const { name } = set;
    const parsed = scaleRequest.safeParse(await readJson(c));
    if (!parsed.success) {
      throw new GatewayError(
        'BAD_REQUEST',
        'the body must be {"serviceName": NAME, "replicas": an integer from 0 to 100}',
      );
    }
    const { serviceName, replicas } = parsed.data;
    if (serviceName !== undefined && serviceName !== name)
      throw new GatewayError(
        'BAD_REQUEST',
        `serviceName ${JSON.stringify(serviceName)} does not match ${name}`,
      );
    const { max } = set.spec.scale;
    if (replicas > max)
      throw new GatewayError(
        'BAD_REQUEST',
        `${name} runs at most ${max} replicas (com.openfaas.scale.max, MAX_REPLICAS); asked for ${replicas}`,
      );
    // As the edition would: CE's gateway makes 0 one replica and caps at 5, still with a 202.
    const applied = deps.edition.manualScale(replicas);
    deps.log.info('scaling by hand', { function: name, from: set.desired, to: applied, asked: replicas });
    set.scaleTo(applied);
    // OpenFaaS answers 202 with no body; this one says what was applied and how long it may last.
    return c.json(
      {
        function: name,
        asked: replicas,
        replicas: applied,
        policy: deps.autoscaler.policy,
        note: MANUAL_SCALE_FATE[deps.autoscaler.policy],
      },
      202,
    );
  });
  return app;
}
