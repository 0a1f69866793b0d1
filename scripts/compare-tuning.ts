import { parseArgs } from 'node:util';
import type { DbStats } from '../contract/functions.ts';
import { createLogger } from '../functions/lib/log.ts';
import { parseGatewayConfig } from '../gateway/config.ts';
import { startLocalStack } from '../gateway/local-stack.ts';
import { planFromText } from '../loadgen/src/core/plan.ts';
import { LoadEngine } from '../loadgen/src/node/engine.ts';
import { tuningArgs } from '../mysql/tuning.ts';

const usage = `Usage: npm run compare:tuning -- [--rate 60] [--duration 30s] [--ratio 1:3] [--strategy order-by-rand]
                                [--connection-mode naive|budget] [--policy openfaas-ce]

Runs the same load twice against the local stack, each time with a MySQL of its own:
first with the server's default settings, then with sql/tuning.cnf, and prints
connections, errors and latency side by side.`;

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '60' },
    duration: { type: 'string', default: '30s' },
    ratio: { type: 'string', default: '1:3' },
    strategy: { type: 'string', default: 'order-by-rand' },
    'connection-mode': { type: 'string', default: 'naive' },
    policy: { type: 'string', default: 'openfaas-ce' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}
const { MYSQL_URL: _, ...env } = process.env;
const plan = planFromText({ ...values, profile: 'constant' });

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

async function runWith(label: string, serverArgs: string[]): Promise<Row> {
  process.stderr.write(`\n== ${label}: starting a MySQL and the stack\n`);
  const stack = await startLocalStack({
    config: parseGatewayConfig({
      GATEWAY_PORT: '0',
      CAT_SOURCE_PORT: '0',
      SCALING_POLICY: values.policy,
      REPLICA_CONNECTION_MODE: values['connection-mode'],
    }),
    persistent: false,
    env,
    log: createLogger('warn'),
    replicaEnv: { LOG_LEVEL: 'warn' },
    mysqlServerArgs: serverArgs,
  });
  try {
    const gw = stack.gateway.url;
    for (let i = 0; i < 20; i++)
      await (await fetch(`${gw}/function/randstore`, { method: 'POST' })).arrayBuffer();
    const sampler = sampleDbstats(gw);
    const results = await new LoadEngine({
      target: gw,
      plan,
      maxInFlight: 512,
      connections: 64,
      timeoutMs: 30_000,
      onEvent: (event) => {
        if (event.type !== 'second') return;
        const { stats } = event;
        process.stderr.write(
          `t=${(stats[0]?.t ?? 0) + 1}s ${stats.map((s) => `${s.fn} ${s.completed}/s p99 ${s.p99}ms`).join('  ')}\n`,
        );
      },
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

const rows = [await runWith('server defaults', []), await runWith('sql/tuning.cnf', await tuningArgs())];
console.log(
  `\n${JSON.stringify(plan)}, connection mode ${values['connection-mode']}, policy ${values.policy}`,
);
console.table(rows);
