import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runMain, UsageError } from '../functions/lib/cli.ts';
import { int, parseEnv, type VariableSpec } from '../functions/lib/env.ts';
import { migrate } from '../mysql/migrate.ts';
import { provisionMysql } from '../mysql/provision.ts';
import { seedCats } from '../mysql/seed.ts';
import { writeReport } from './report.ts';
import { benchCatSource } from './scenarios/catsource.ts';
import { benchCodec } from './scenarios/codec.ts';
import { benchConnectionModes } from './scenarios/connection-modes.ts';
import { benchEngine } from './scenarios/engine.ts';
import { benchGateway } from './scenarios/gateway.ts';
import { benchMemory } from './scenarios/memory.ts';
import { benchRandshow } from './scenarios/randshow.ts';
import { benchRandstore } from './scenarios/randstore.ts';
import { benchServerOverhead } from './scenarios/server.ts';
import { benchStack } from './scenarios/stack.ts';

export const SCENARIOS = [
  'codec',
  'server',
  'catsource',
  'randstore',
  'randshow',
  'gateway',
  'engine',
  'memory',
  'modes',
  'stack',
] as const;

const usage = `Usage: npm run bench -- [--only ${SCENARIOS.join(',')}] [--seconds 8] [--connections 50]
                      [--rows 1000,10000,100000] [--budget-ms 4000] [--long] [--out FILE] [--report-dir DIR]

Each scenario is bounded; the whole suite takes about 6 minutes on 2 cores. Traffic goes to
loopback only, and MySQL is a throwaway one from the provisioning chain.`;

const FLAGS = {
  '--seconds': { schema: int(1, 3600), allowed: 'integer 1–3600', default: '8', description: '' },
  '--connections': { schema: int(1, 10_000), allowed: 'integer 1–10000', default: '50', description: '' },
  '--budget-ms': {
    schema: int(100, 600_000),
    allowed: 'integer 100–600000',
    default: '4000',
    description: '',
  },
} satisfies Record<string, VariableSpec>;

/** What every scenario gets: the options, the results to fill in, and the way to print a title. */
interface Run {
  seconds: number;
  connections: number;
  budget: number;
  rows: string;
  long: boolean;
  env: NodeJS.ProcessEnv;
  results: Record<string, unknown>;
  machine: Record<string, unknown>;
  say: (title: string) => void;
}

async function codecScenario(run: Run): Promise<void> {
  const codec = benchCodec(Math.min(run.budget, 1500));
  run.results.codec = codec;
  run.say('Codec, 1 MiB (MiB/s)');
  console.table({
    'escaped-base64': { encode: codec.escapedEncodeMiBs, decode: codec.escapedDecodeMiBs },
    'Buffer base64': { encode: codec.bufferEncodeMiBs, decode: codec.bufferDecodeMiBs },
  });
  run.say(
    `round trip escaped ÷ Buffer: ${codec.roundTripRatio}×; stored bytes per image byte: ${codec.storedBytesPerImageByte} (raw: 1)`,
  );
}

async function serverScenario(run: Run): Promise<void> {
  const s = await benchServerOverhead(run.seconds, run.connections);
  run.results.server = s;
  run.say(
    `No-op handler, autocannon ${run.connections} connections, ${run.seconds} s a run, each server in its own process (medians)`,
  );
  console.table({
    'plain node:http': { 'req/s': s.plain.rps, 'p99 ms': s.plain.p99Ms },
    'our function server': { 'req/s': s.functionServer.rps, 'p99 ms': s.functionServer.p99Ms },
    'Express (OpenFaaS node template style)': { 'req/s': s.express.rps, 'p99 ms': s.express.p99Ms },
  });
  run.say(
    `ours/plain ${s.oursOverPlain}× (median of ${s.rounds} interleaved rounds: ${s.roundRatios.join(', ')}), ours/Express ${s.oursOverExpress}×`,
  );
}

async function catSourceScenario(run: Run): Promise<void> {
  const c = await benchCatSource(run.seconds, 16);
  run.results.catsource = c;
  run.say(
    `Local cat source, autocannon 16 connections, ${run.seconds} s each (pool drawn at start in ${c.startMs} ms)`,
  );
  console.table({
    'GET /cat (from the pool)': { 'req/s': c.pooled.rps, 'p99 ms': c.pooled.p99Ms },
    'GET /cat?width=… (drawn for the request)': { 'req/s': c.drawn.rps, 'p99 ms': c.drawn.p99Ms },
  });
  run.say(`pooled/drawn ${c.pooledOverDrawn}×`);
}

async function randstoreScenario(run: Run): Promise<void> {
  const r = await benchRandstore(run.seconds, 16, Math.min(run.budget, 3000), run.env);
  run.results.randstore = r;
  run.say(
    'randstore: its image check over the cat source’s pool (4 at a time), then end to end on one replica',
  );
  console.table({
    'check: 64-px thumbnail decode (now)': { 'cats/s': r.check.thumbnailPerS },
    'check: stats() of every pixel (before)': { 'cats/s': r.check.statsPerS },
  });
  run.say(`thumbnail/stats ${r.check.ratio}×`);
  console.table({
    'POST to the replica': { 'req/s': r.direct.rps, 'p99 ms': r.direct.p99Ms, non2xx: r.direct.non2xx },
    'POST /function/randstore': {
      'req/s': r.viaGateway.rps,
      'p99 ms': r.viaGateway.p99Ms,
      non2xx: r.viaGateway.non2xx,
    },
  });
}

async function randshowScenario(run: Run): Promise<void> {
  const server = await provisionMysql({
    env: run.env,
    database: 'bench',
    log: (l) => process.stderr.write(`${l}\n`),
  });
  try {
    await migrate(server.url, { database: 'bench' });
    run.machine.mysql = server.version;
    const cells = [];
    for (const rows of run.rows
      .split(',')
      .map(Number)
      .sort((a, b) => a - b)) {
      const t = Date.now();
      await seedCats(server.url, rows, 8 * 1024);
      process.stderr.write(`seeded ${rows} rows in ${((Date.now() - t) / 1000).toFixed(1)} s\n`);
      cells.push(...(await benchRandshow(server.url, rows, run.budget)));
    }
    run.results.randshow = cells;
    run.say(`randshow p50/p99 (ms) by strategy and rows, 8 KiB escaped-base64 blobs, ${server.version}`);
    console.table(cells);
  } finally {
    await server.close();
  }
}

async function gatewayScenario(run: Run): Promise<void> {
  const rows = await benchGateway(run.seconds, run.connections, run.env);
  run.results.gateway = rows;
  run.say(
    `Local gateway vs one replica directly and vs the thin-proxy anchor (autocannon in a worker, ${run.connections} connections, ${run.seconds} s each, ${rows[0]?.rounds} interleaved rounds, medians)`,
  );
  console.table(
    rows.map((r) => ({
      target: r.target,
      'direct req/s': r.direct.rps,
      'anchor req/s': r.anchor.rps,
      'gateway req/s': r.viaGateway.rps,
      'anchor/direct': r.anchorRatio,
      'gateway/direct': r.rpsRatio,
      'gateway/anchor': r.overAnchor,
      'rounds gateway/anchor': r.overAnchorRounds.join(' '),
      'CPU µs/call anchor|gateway': `${r.cpuUsPerCall.anchor} | ${r.cpuUsPerCall.gateway}`,
      'replica µs/call via anchor|gateway': `${r.cpuUsPerCall.replicaViaAnchor} | ${r.cpuUsPerCall.replicaViaGateway}`,
      'gateway p99 ms': r.viaGateway.p99Ms,
    })),
  );
}

async function engineScenario(run: Run): Promise<void> {
  const e = await benchEngine(run.seconds, run.connections);
  run.results.engine = e;
  run.say(`Node engine vs autocannon, no-op node:http server, ${e.connections} connections`);
  console.table({
    'max req/s': {
      autocannon: e.autocannonRps,
      'node engine (open loop, no drops)': e.engineMaxRps,
      'engine/autocannon': e.maxRatio,
    },
  });
  run.say(
    `at 2000 req/s dialled: achieved ${e.accuracy.achieved} (${e.accuracy.ratio}×), dropped ${e.accuracy.dropped}, p99 ${e.accuracy.p99Ms} ms`,
  );
}

async function memoryScenario(run: Run): Promise<void> {
  const memSeconds = run.long ? 600 : Math.max(run.seconds * 2, 10);
  const rows = await benchMemory(memSeconds, 100, run.env);
  run.results.memory = { seconds: memSeconds, rate: 100, rows };
  run.say(`Replica RSS before and after ${memSeconds} s at 100 req/s (1:3, random-id)`);
  console.table(rows);
}

async function modesScenario(run: Run): Promise<void> {
  const rows = await benchConnectionModes(run.seconds, 300, run.env);
  run.results.modes = rows;
  run.say(
    'Connection modes: 4 randshow replicas, max_connections = 12, 300 req/s order-by-rand on 2,000 rows',
  );
  console.table(rows);
}

async function stackScenario(run: Run): Promise<void> {
  const rows = await benchStack(run.seconds, run.env);
  run.results.stack = rows;
  run.say(
    `The whole local stack: highest rate held at 1:3 (random-id, scaling off; within 1 %, no failures or drops, p99 < 1 s), ${run.seconds} s a probe`,
  );
  console.table(
    rows.map((r) => ({ replicas: r.replicas, 'max req/s': r.maxRate, 'CPU s per 1000 req': r.cpuPer1000 })),
  );
  run.say('Share of the CPU used at that rate, by process:');
  console.table(Object.fromEntries(rows.map((r) => [`${r.replicas} replica(s)`, r.cpuShare])));
}

const RUNNERS: Record<(typeof SCENARIOS)[number], (run: Run) => Promise<void>> = {
  codec: codecScenario,
  server: serverScenario,
  catsource: catSourceScenario,
  randstore: randstoreScenario,
  randshow: randshowScenario,
  gateway: gatewayScenario,
  engine: engineScenario,
  memory: memoryScenario,
  modes: modesScenario,
  stack: stackScenario,
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      seconds: { type: 'string', default: '8' },
      connections: { type: 'string', default: '50' },
      rows: { type: 'string', default: '1000,10000,100000' },
      'budget-ms': { type: 'string', default: '4000' },
      long: { type: 'boolean', default: false },
      out: { type: 'string', default: 'bench/results/latest.json' },
      'report-dir': { type: 'string', default: 'docs/bench' },
      help: { type: 'boolean', short: 'h' },
      verbose: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  const only = values.only ? values.only.split(',') : [...SCENARIOS];
  const unknown = only.filter((s) => !(SCENARIOS as readonly string[]).includes(s));
  if (unknown.length)
    throw new UsageError(`unknown scenario ${unknown.join(', ')}; the scenarios are ${SCENARIOS.join(', ')}`);
  const flags = parseEnv(FLAGS, {
    '--seconds': values.seconds,
    '--connections': values.connections,
    '--budget-ms': values['budget-ms'],
  });
  if (!/^\d+(,\d+)*$/.test(values.rows))
    throw new UsageError(
      `--rows must be row counts separated by commas, e.g. 1000,10000; got "${values.rows}"`,
    );
  const { MYSQL_URL: _, ...env } = process.env;
  const started = Date.now();
  const machine: Record<string, unknown> = {
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    date: new Date().toISOString(),
  };
  const results: Record<string, unknown> = { machine };
  const run: Run = {
    seconds: flags['--seconds'],
    connections: flags['--connections'],
    budget: flags['--budget-ms'],
    rows: values.rows,
    long: values.long,
    env,
    results,
    machine,
    say: (title) => process.stdout.write(`\n${title}\n`),
  };
  for (const scenario of SCENARIOS) if (only.includes(scenario)) await RUNNERS[scenario](run);

  results.elapsedS = Math.round((Date.now() - started) / 1000);
  await mkdir(path.dirname(values.out), { recursive: true });
  await writeFile(values.out, `${JSON.stringify(results, null, 2)}\n`);
  const report = await writeReport(results, values['report-dir']);
  run.say(`written: ${values.out}, ${report} (${results.elapsedS} s)`);
}

await runMain(main);
