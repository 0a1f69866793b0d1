import { randomBytes } from 'node:crypto';
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type CatSourceServer, type CatSourceServerOptions, startCatSource } from '../catsource/server.ts';
import { FUNCTION_NAMES, type FunctionName } from '../contract/functions.ts';
import type { Logger } from '../functions/lib/log.ts';
import { migrate, passwordSecretName } from '../mysql/migrate.ts';
import { provisionMysql } from '../mysql/provision.ts';
import type { MysqlServer } from '../mysql/server.ts';
import { alertRepeatS, type GatewayConfig } from './config.ts';
import { EDITIONS, POLICY_EDITION, stackRefusals } from './editions.ts';
import { type Gateway, type GatewayOptions, startGateway } from './gateway.ts';
import { type FunctionSpec, loadStack } from './stack.ts';

export const DATABASE = 'systembreaker';

export interface LocalStackOptions {
  config: GatewayConfig;
  /** Keep MySQL data and generated passwords in config.DATA_DIR; otherwise everything is thrown away. */
  persistent: boolean;
  /** The environment the provisioning chain reads (MYSQL_URL, MYSQL_IMAGE, …). */
  env: NodeJS.ProcessEnv;
  /** Added to every replica's environment (e.g. LOG_LEVEL). */
  replicaEnv?: Record<string, string>;
  log: Logger;
  onStep?: (line: string) => void;
  onReplicaLog?: (replicaId: string, line: string) => void;
  staticDir?: string;
  basicAuth?: { user: string; password: string };
  /** Extra options for a MySQL server the chain starts (e.g. `--max-connections=20`). */
  mysqlServerArgs?: string[];
  /** How slow `slow` is and how huge `huge` is on the local cat source. */
  catSource?: Omit<CatSourceServerOptions, 'port' | 'host'>;
}

export interface LocalStack {
  gateway: Gateway;
  mysql: MysqlServer;
  catSource: CatSourceServer;
  secretsDir: string;
  stop(): Promise<void>;
  /** SIGKILL to every replica and MySQL, at once: a forced stop (its data recovers on the next start). */
  kill(): Promise<void>;
}

/** One password per function user, generated once and kept as OpenFaaS-style secret files. */
async function functionSecrets(dir: string): Promise<Record<FunctionName, string>> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const entries = await Promise.all(
    FUNCTION_NAMES.map(async (user) => {
      const file = path.join(dir, passwordSecretName(user));
      try {
        return [user, (await readFile(file, 'utf8')).trim()] as const;
      } catch {
        const password = randomBytes(18).toString('base64url');
        await writeFile(file, password, { mode: 0o600 });
        return [user, password] as const;
      }
    }),
  );
  return Object.fromEntries(entries) as Record<FunctionName, string>;
}

/**
 * The functions of the stack file as the edition behind the scaling policy sees them: its
 * default MAX_REPLICAS (20 for the talk's gateway and Pro, 5 for CE) unless the environment
 * sets one, its defaults for absent labels, and refused with its own words where it would
 * refuse the deploy.
 */
export async function stackFor(config: GatewayConfig, env: NodeJS.ProcessEnv): Promise<FunctionSpec[]> {
  const edition = EDITIONS[POLICY_EDITION[config.SCALING_POLICY]];
  const functions = await loadStack(
    config.STACK_FILE,
    { MAX_REPLICAS: String(edition.defaults.max), ...env },
    edition.defaults,
  );
  const refused = stackRefusals(edition, functions);
  if (refused.length > 0) {
    throw new Error(
      `${edition.title} (SCALING_POLICY=${config.SCALING_POLICY}) would refuse ${config.STACK_FILE}:\n` +
        refused.map((r) => `  - ${r}`).join('\n') +
        '\nChange those labels, or pick the policy of another edition.',
    );
  }
  return functions;
}

/**
 * What each replica of a function starts with: its environment, pointed at this stack.
 * `functions` is every function as deployed now, for the budget share of max_connections.
 */
function replicaEnvironment(
  spec: FunctionSpec,
  functions: readonly FunctionSpec[],
  stack: { mysql: MysqlServer; secretsDir: string; catSource: CatSourceServer },
  options: LocalStackOptions,
): Record<string, string> {
  const { config } = options;
  return {
    PATH: process.env.PATH ?? '',
    ...spec.environment,
    MYSQL_HOST: stack.mysql.host,
    MYSQL_PORT: String(stack.mysql.port),
    MYSQL_DATABASE: DATABASE,
    SECRETS_DIR: stack.secretsDir,
    // Only the gateway calls a replica, on loopback: a replica answers to nothing else.
    ALLOWED_HOSTS: 'localhost',
    CAT_SOURCE_URL: `${stack.catSource.url}/cat`,
    ...(config.REPLICA_POOL_SIZE ? { DB_POOL_SIZE: String(config.REPLICA_POOL_SIZE) } : {}),
    ...(config.REPLICA_CONNECTION_MODE ? { DB_CONNECTION_MODE: config.REPLICA_CONNECTION_MODE } : {}),
    // budget mode: each function's share of max_connections follows its max replicas.
    DB_BUDGET_MAX_REPLICAS: String(spec.scale.max),
    DB_BUDGET_SHARE: String(
      spec.scale.max / functions.reduce((n, f) => n + (f.name === spec.name ? spec : f).scale.max, 0),
    ),
    ...options.replicaEnv,
  };
}

/** The gateway of the local stack: the stack's functions, pointed at its MySQL, secrets and cat source. */
function gatewayOptions(
  options: LocalStackOptions,
  functions: FunctionSpec[],
  stack: { mysql: MysqlServer; secretsDir: string; catSource: CatSourceServer },
): GatewayOptions {
  const { config } = options;
  const { secretsDir } = stack;
  return {
    functions,
    replicaEnv: (spec, all) => replicaEnvironment(spec, all, stack, options),
    // A deploy may name only secrets that exist where the replicas read them.
    secretExists: async (name) =>
      path.basename(name) === name &&
      (await access(path.join(secretsDir, name)).then(
        () => true,
        () => false,
      )),
    host: config.GATEWAY_HOST,
    port: config.GATEWAY_PORT,
    allowedHosts: config.GATEWAY_ALLOWED_HOSTS,
    allowedOrigins: config.GATEWAY_ALLOWED_ORIGINS,
    async: {
      capacity: config.GATEWAY_ASYNC_QUEUE,
      concurrency: config.GATEWAY_ASYNC_CONCURRENCY,
      callbackHosts: config.GATEWAY_CALLBACK_HOSTS,
    },
    policy: config.SCALING_POLICY,
    settings: {
      thresholdRps: config.ALERT_THRESHOLD_RPS,
      forMs: config.ALERT_FOR_S * 1000,
      repeatMs: alertRepeatS(config) * 1000,
      scaleDownWindowMs: config.SCALE_DOWN_WINDOW_S * 1000,
    },
    windowMs: config.ALERT_WINDOW_S * 1000,
    alertCodes: config.ALERT_CODES,
    tickMs: config.SCALER_TICK_MS,
    upstreamTimeoutMs: config.UPSTREAM_TIMEOUT_MS,
    log: options.log,
    ...(options.onReplicaLog ? { onReplicaLog: options.onReplicaLog } : {}),
    ...(options.staticDir ? { staticDir: options.staticDir } : {}),
    ...(options.basicAuth ? { basicAuth: options.basicAuth } : {}),
  };
}

/**
 * The whole demo on one machine: MySQL from the provisioning chain, the schema and
 * least-privilege users, the local cat source, and the gateway with its replicas.
 * Each replica connects as its own function user with the password in a secret file,
 * as it would on OpenFaaS.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const { config } = options;
  const step = options.onStep ?? (() => {});
  const dataDir = options.persistent
    ? path.resolve(config.DATA_DIR)
    : await mkdtemp(path.join(os.tmpdir(), 'sb-stack-'));
  const cleanups: Array<{ what: string; run: () => Promise<void> }> = [];
  // Every step runs even when one before it failed (MySQL, pushed first, is stopped last); each
  // says it is done, and a failure is reported, not swallowed.
  const cleanup = async () => {
    for (const { what, run } of cleanups.reverse()) {
      const started = Date.now();
      await run().then(
        () => step(`stopped: ${what} (${Date.now() - started} ms)`),
        (err: unknown) => {
          step(`stopping ${what} failed: ${(err as Error).message}`);
          options.log.warn('a step of stopping the stack failed', { what, err });
        },
      );
    }
    cleanups.length = 0;
    if (!options.persistent) await rm(dataDir, { recursive: true, force: true });
  };
  try {
    const mysql = await provisionMysql({
      env: options.env,
      database: DATABASE,
      log: step,
      ...(options.persistent ? { dataDir: path.join(dataDir, 'mysql') } : {}),
      ...(options.mysqlServerArgs ? { serverArgs: options.mysqlServerArgs } : {}),
    });
    cleanups.push({ what: 'MySQL', run: () => mysql.close() });
    const secretsDir = path.join(dataDir, 'secrets');
    const users = await functionSecrets(secretsDir);
    const migrated = await migrate(mysql.url, { database: DATABASE, users });
    step(`schema: ${migrated.applied.length ? `applied ${migrated.applied.join(', ')}` : 'up to date'}`);

    const catSource = await startCatSource({ ...options.catSource, port: config.CAT_SOURCE_PORT });
    cleanups.push({ what: 'the cat source', run: () => catSource.close() });

    const functions = await stackFor(config, options.env);
    const gateway = await startGateway(gatewayOptions(options, functions, { mysql, secretsDir, catSource }));
    cleanups.push({
      what: 'the gateway and its replicas',
      run: () => gateway.stop(),
    });
    const kill = async () => {
      for (const set of gateway.sets.values()) for (const r of set.all()) r.kill('SIGKILL');
      await mysql.kill?.();
    };
    return { gateway, mysql, catSource, secretsDir, stop: cleanup, kill };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
