import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { migrate } from '../mysql/migrate.ts';
import { provisionMysql } from '../mysql/provision.ts';
import { seedCats } from '../mysql/seed.ts';
import { writeReport } from './report.ts';
import { benchCodec } from './scenarios/codec.ts';
import { benchConnectionModes } from './scenarios/connection-modes.ts';
import { benchEngine } from './scenarios/engine.ts';
import { benchGateway } from './scenarios/gateway.ts';
import { benchMemory } from './scenarios/memory.ts';
import { benchRandshow } from './scenarios/randshow.ts';
import { benchServerOverhead } from './scenarios/server.ts';

export const SCENARIOS = ['codec', 'server', 'randshow', 'gateway', 'engine', 'memory', 'modes'] as const;

const usage = `Usage: npm run bench -- [--only ${SCENARIOS.join(',')}] [--seconds 8] [--connections 50]
                      [--rows 1000,10000,100000] [--budget-ms 4000] [--long] [--out FILE] [--report-dir DIR]

Each scenario is bounded; the whole suite takes about 6 minutes on 2 cores. Traffic goes to
loopback only, and MySQL is a throwaway one from the provisioning chain.`;

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
  },
});
if (values.help) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}
const only = values.only ? values.only.split(',') : [...SCENARIOS];
const unknown = only.filter((s) => !(SCENARIOS as readonly string[]).includes(s));
if (unknown.length) {
  process.stderr.write(`unknown scenario ${unknown.join(', ')}\n\n${usage}\n`);
  process.exit(2);
}
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const budget = Number(values['budget-ms']);
const { MYSQL_URL: _, ...env } = process.env;
const started = Date.now();
const results: Record<string, unknown> = {
  machine: {
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    date: new Date().toISOString(),
  },
};
const machine = results.machine as Record<string, unknown>;
const say = (title: string) => process.stdout.write(`\n${title}\n`);

if (only.includes('codec')) {
  const codec = benchCodec(Math.min(budget, 1500));
  results.codec = codec;
  say('Codec, 1 MiB (MiB/s)');
  console.table({
    'escaped-base64': { encode: codec.escapedEncodeMiBs, decode: codec.escapedDecodeMiBs },
    'Buffer base64': { encode: codec.bufferEncodeMiBs, decode: codec.bufferDecodeMiBs },
  });
  say(
    `round trip escaped ÷ Buffer: ${codec.roundTripRatio}×; stored bytes per image byte: ${codec.storedBytesPerImageByte} (raw: 1)`,
  );
}

if (only.includes('server')) {
  const s = await benchServerOverhead(seconds, connections);
  results.server = s;
  say(`No-op handler, autocannon ${connections} connections, ${seconds} s, each server in its own process`);
  console.table({
    'plain node:http': { 'req/s': s.plain.rps, 'p99 ms': s.plain.p99Ms },
    'our function server': { 'req/s': s.functionServer.rps, 'p99 ms': s.functionServer.p99Ms },
    'Express (OpenFaaS node template style)': { 'req/s': s.express.rps, 'p99 ms': s.express.p99Ms },
  });
  say(`ours/plain ${s.oursOverPlain}×, ours/Express ${s.oursOverExpress}×`);
}

if (only.includes('randshow')) {
  const server = await provisionMysql({ env, database: 'bench', log: (l) => process.stderr.write(`${l}\n`) });
  try {
    await migrate(server.url, { database: 'bench' });
    machine.mysql = server.version;
    const cells = [];
    for (const rows of values.rows
      .split(',')
      .map(Number)
      .sort((a, b) => a - b)) {
      const t = Date.now();
      await seedCats(server.url, rows, 8 * 1024);
      process.stderr.write(`seeded ${rows} rows in ${((Date.now() - t) / 1000).toFixed(1)} s\n`);
      cells.push(...(await benchRandshow(server.url, rows, budget)));
    }
    results.randshow = cells;
    say(`randshow p50/p99 (ms) by strategy and rows, 8 KiB escaped-base64 blobs, ${server.version}`);
    console.table(cells);
  } finally {
    await server.close();
  }
}

if (only.includes('gateway')) {
  const rows = await benchGateway(seconds, connections, env);
  results.gateway = rows;
  say(`Local gateway vs one replica directly (autocannon, ${connections} connections, ${seconds} s each)`);
  console.table(
    rows.map((r) => ({
      target: r.target,
      'direct req/s': r.direct.rps,
      'gateway req/s': r.viaGateway.rps,
      'gateway/direct': r.rpsRatio,
      'direct p99 ms': r.direct.p99Ms,
      'gateway p99 ms': r.viaGateway.p99Ms,
    })),
  );
}

if (only.includes('engine')) {
  const e = await benchEngine(seconds, connections);
  results.engine = e;
  say(`Node engine vs autocannon, no-op node:http server, ${e.connections} connections`);
  console.table({
    'max req/s': {
      autocannon: e.autocannonRps,
      'node engine (open loop, no drops)': e.engineMaxRps,
      'engine/autocannon': e.maxRatio,
    },
  });
  say(
    `at 2000 req/s dialled: achieved ${e.accuracy.achieved} (${e.accuracy.ratio}×), dropped ${e.accuracy.dropped}, p99 ${e.accuracy.p99Ms} ms`,
  );
}

if (only.includes('memory')) {
  const memSeconds = values.long ? 600 : Math.max(seconds * 2, 10);
  const rows = await benchMemory(memSeconds, 100, env);
  results.memory = { seconds: memSeconds, rate: 100, rows };
  say(`Replica RSS before and after ${memSeconds} s at 100 req/s (1:3, random-id)`);
  console.table(rows);
}

if (only.includes('modes')) {
  const rows = await benchConnectionModes(seconds, 300, env);
  results.modes = rows;
  say('Connection modes: 4 randshow replicas, max_connections = 12, 300 req/s order-by-rand on 2,000 rows');
  console.table(rows);
}

results.elapsedS = Math.round((Date.now() - started) / 1000);
await mkdir(path.dirname(values.out), { recursive: true });
await writeFile(values.out, `${JSON.stringify(results, null, 2)}\n`);
const report = await writeReport(results, values['report-dir']);
say(`written: ${values.out}, ${report} (${results.elapsedS} s)`);
