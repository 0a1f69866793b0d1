import { parseArgs } from 'node:util';
import type { DbStats } from '../contract/functions.ts';
import type { Plan } from '../contract/plan.ts';
import { runMain } from '../functions/lib/cli.ts';
import { int, parseEnv, type VariableSpec } from '../functions/lib/env.ts';
import { createLogger } from '../functions/lib/log.ts';
import { parseGatewayConfig } from '../gateway/config.ts';
import { DATABASE, startLocalStack } from '../gateway/local-stack.ts';
import { planFromText } from '../loadgen/src/core/plan.ts';
import { LoadEngine } from '../loadgen/src/node/engine.ts';
import { progressPrinter } from '../loadgen/src/node/progress.ts';
import { seedCats } from '../mysql/seed.ts';
import { withDatabase } from '../mysql/server.ts';
import { tuningArgs } from '../mysql/tuning.ts';

const usage = `Usage: npm run compare:tuning -- [options]

Runs the same load twice against the local stack, each time with a MySQL of its own:
first with the server's default settings, then with sql/tuning.cnf, and prints
connections, refusals, errors and latency side by side.

  --rate N --duration D --ratio R --strategy S   the load, as for npm run load
                        (defaults 300, 45s, 1:3, order-by-rand)
  --pool-size N         each replica's connection pool (default 40): replicas × pool is
                        what the functions may open, against max_connections
  --rows N              cats seeded before the load (default 2000, 8 KiB each)
  --connection-mode M   naive | budget (default naive)
  --policy P            the scaling policy (default openfaas-2018)`;

const FLAGS = {
  '--pool-size': { schema: int(1, 1000), allowed: 'integer 1–1000', default: '40', description: '' },
  '--rows': { schema: int(0, 1_000_000), allowed: 'integer 0–1000000', default: '2000', description: '' },
} satisfies Record<string, VariableSpec>;

interface Options {
  plan: Plan;
  poolSize: number;
  rows: number;
  connectionMode: string;
  policy: string;
}

interface Row {
  settings: string;
  /** "—" when no dbstats sample succeeded: an unknown is not a zero. */
  maxThreadsConnected: number | string;
  maxConnections: number | string;
  refusedAtMax: number | string;
  /** dbstats samples that failed (the database under this load may not answer them). */
  failedSamples: number;
  [key: string]: string | number;
}

/** dbstats every second while the load runs: the most connections seen, and refusals at max_connections. */
function sampleDbstats(gw: string) {
  let maxThreads = 0;
  let maxConnections = 0;
  let refusedBefore = -1;
  let refused = 0;
  let samples = 0;
  let failedSamples = 0;
  const timer = setInterval(async () => {
    try {
      const { server } = (await (await fetch(`${gw}/function/dbstats`)).json()) as DbStats;
      maxThreads = Math.max(maxThreads, server.threadsConnected);
      maxConnections = server.maxConnections;
      if (refusedBefore < 0) refusedBefore = server.connectionErrorsMaxConnections;
      refused = server.connectionErrorsMaxConnections - refusedBefore;
      samples++;
    } catch {
      failedSamples++; // counted and shown: the database under this load may not answer
    }
  }, 1000);
  return {
    stop() {
      clearInterval(timer);
      return {
        maxThreadsConnected: samples ? maxThreads : '—',
        maxConnections: samples ? maxConnections : '—',
        refusedAtMax: samples ? refused : '—',
        failedSamples,
      };
    },
  };
}

async function runWith(label: string, serverArgs: string[], options: Options): Promise<Row> {
  process.stderr.write(`\n== ${label}: starting a MySQL and the stack\n`);
  const { MYSQL_URL: _, ...env } = process.env;
  const stack = await startLocalStack({
    config: parseGatewayConfig({
      GATEWAY_PORT: '0',
      CAT_SOURCE_PORT: '0',
      SCALING_POLICY: options.policy,
      REPLICA_CONNECTION_MODE: options.connectionMode,
      REPLICA_POOL_SIZE: String(options.poolSize),
    }),
    persistent: false,
    env,
    log: createLogger('warn'),
    replicaEnv: { LOG_LEVEL: 'warn' },
    mysqlServerArgs: serverArgs,
  });
  try {
    const gw = stack.gateway.url;
    await seedCats(withDatabase(stack.mysql.url, DATABASE), options.rows, 8 * 1024);
    const sampler = sampleDbstats(gw);
    const results = await new LoadEngine({
      target: gw,
      plan: options.plan,
      // One socket per call in flight: with fewer, the sockets, not the database, cap the concurrency.
      maxInFlight: 512,
      connections: 512,
      timeoutMs: 30_000,
      onEvent: progressPrinter(options.plan.durationS),
    }).run();
    const row: Row = { settings: label, ...sampler.stop() };
    for (const f of results.summary) {
      row[`${f.fn} rate/s`] = f.rate;
      row[`${f.fn} p50 ms`] = f.p50;
      row[`${f.fn} p99 ms`] = f.p99;
      row[`${f.fn} errors`] =
        Object.entries(f.byCode)
          .map(([c, n]) => `${c}:${n}`)
          .join(' ') || '0';
    }
    return row;
  } finally {
    await stack.stop();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rate: { type: 'string', default: '300' },
      duration: { type: 'string', default: '45s' },
      ratio: { type: 'string', default: '1:3' },
      strategy: { type: 'string', default: 'order-by-rand' },
      'pool-size': { type: 'string' },
      rows: { type: 'string' },
      'connection-mode': { type: 'string', default: 'naive' },
      policy: { type: 'string', default: 'openfaas-2018' },
      help: { type: 'boolean', short: 'h' },
      verbose: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  const flags = parseEnv(FLAGS, { '--pool-size': values['pool-size'], '--rows': values.rows });
  const options: Options = {
    plan: planFromText({ ...values, profile: 'constant' }),
    poolSize: flags['--pool-size'],
    rows: flags['--rows'],
    connectionMode: values['connection-mode'],
    policy: values.policy,
  };
  // The stack's own configuration check runs here, before any MySQL starts.
  parseGatewayConfig({ SCALING_POLICY: options.policy, REPLICA_CONNECTION_MODE: options.connectionMode });
  const rows = [
    await runWith('server defaults', [], options),
    await runWith('sql/tuning.cnf', await tuningArgs(), options),
  ];
  console.log(
    `\n${JSON.stringify(options.plan)}, pool ${options.poolSize} per replica, ${options.rows} rows, ` +
      `connection mode ${options.connectionMode}, policy ${options.policy}`,
  );
  console.table(rows);
}

await runMain(main);
