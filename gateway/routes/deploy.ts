import { Hono } from 'hono';
import {
  deleteFunctionRequest,
  type FunctionDeployment,
  functionDeployment,
  OPENFAAS_NAMESPACE,
} from '../../contract/openfaas.ts';
import type { Logger } from '../../functions/lib/log.ts';
import { type Edition, stackRefusals } from '../editions.ts';
import { checkNamespace, functionNotFound, GatewayError, readJson } from '../errors.ts';
import type { ReplicaSet } from '../replica-set.ts';
import { type FunctionSpec, scaleLabels } from '../stack.ts';
import type { GatewayEnv } from './types.ts';

export interface DeployDeps {
  sets: ReadonlyMap<string, ReplicaSet>;
  edition: Edition;
  /** The environment a replica of this spec starts with. */
  replicaEnv: (spec: FunctionSpec) => Record<string, string>;
  /** Whether an OpenFaaS secret of this name exists where the replicas read secrets. */
  secretExists: (name: string) => Promise<boolean>;
  log: Logger;
}

/** The deploy as the function's new spec; what the edition or the labels refuse is a 400. */
async function specOf(set: ReplicaSet, body: FunctionDeployment, deps: DeployDeps): Promise<FunctionSpec> {
  const labels = body.labels ?? {};
  const annotations = body.annotations ?? {};
  const refused = stackRefusals(deps.edition, [{ name: set.name, labels, annotations }]);
  if (refused.length)
    throw new GatewayError(
      'BAD_REQUEST',
      `${deps.edition.title} would refuse this deploy: ${refused.join('; ')}`,
    );
  let scale: FunctionSpec['scale'];
  try {
    scale = scaleLabels(set.name, labels, deps.edition.defaults);
  } catch (err) {
    throw new GatewayError('BAD_REQUEST', (err as Error).message);
  }
  const secrets = body.secrets ?? [];
  for (const secret of secrets)
    if (!(await deps.secretExists(secret)))
      throw new GatewayError(
        'BAD_REQUEST',
        `secret ${JSON.stringify(secret)} does not exist: the replicas read secrets from the local stack's secrets folder (DATA_DIR/secrets); put a file of that name there`,
      );
  return {
    name: set.name,
    image: body.image,
    environment: body.envVars ?? {},
    labels,
    annotations,
    secrets,
    scale,
    ...(body.envProcess ? { envProcess: body.envProcess } : {}),
  };
}

/**
 * What `faas-cli deploy` and `faas-cli remove` call (faas-cli proxy/deploy.go: PUT
 * /system/functions, then POST if that is 404; proxy/delete.go: DELETE with
 * {"functionName"}). The local stack runs its own functions only, so a deploy names one of
 * them; it rolls the replicas to the new environment, labels and secrets (new ones first, old
 * ones drained once they are ready) and answers 202 when the new replicas serve, as
 * faas-netes answers 202.
 */
export function deployRoutes(deps: DeployDeps): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  // One deploy of a function at a time: a second waits for the first to finish rolling.
  const rolling = new Map<string, Promise<unknown>>();

  const deployable = (service: string) => {
    const set = deps.sets.get(service);
    if (set) return set;
    throw new GatewayError(
      'BAD_REQUEST',
      `the local stack can deploy ${[...deps.sets.keys()].join(', ')} (the functions of its stack file), not ${JSON.stringify(service.slice(0, 100))}`,
    );
  };

  async function deploy(raw: unknown, mustExist: boolean): Promise<Response> {
    const parsed = functionDeployment.safeParse(raw);
    if (!parsed.success)
      throw new GatewayError(
        'BAD_REQUEST',
        'the body must be a FunctionDeployment: {"service": NAME, "image": IMAGE, …}',
      );
    const body = parsed.data;
    checkNamespace(body.namespace);
    const set = deployable(body.service);
    if (mustExist && set.removed) throw functionNotFound(set.name);
    const previous = rolling.get(set.name) ?? Promise.resolve();
    const done = previous
      .catch(() => {})
      .then(async () => {
        const spec = await specOf(set, body, deps);
        deps.log.info('deploying', { function: set.name, namespace: OPENFAAS_NAMESPACE });
        await set.redeploy(spec, deps.replicaEnv(spec)).catch((err: unknown) => {
          throw new GatewayError(
            'BAD_REQUEST',
            `${set.name}'s new replicas did not start, so the old ones keep serving: ${(err as Error).message}`,
          );
        });
      });
    rolling.set(set.name, done);
    await done;
    return new Response(null, { status: 202 });
  }

  app.post('/system/functions', async (c) => deploy(await readJson(c), false));
  app.put('/system/functions', async (c) => deploy(await readJson(c), true));
  app.delete('/system/functions', async (c) => {
    // faas-netes reads the namespace of a delete from the query only (pkg/handlers/delete.go).
    checkNamespace(c.req.query('namespace'));
    const parsed = deleteFunctionRequest.safeParse(await readJson(c));
    if (!parsed.success) throw new GatewayError('BAD_REQUEST', 'the body must be {"functionName": NAME}');
    const set = deps.sets.get(parsed.data.functionName);
    if (!set || set.removed) throw functionNotFound(parsed.data.functionName);
    deps.log.info('removing', { function: set.name });
    await set.remove();
    return new Response(null, { status: 202 });
  });
  return app;
}
