import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { migrate } from '../mysql/migrate.ts';
import { provisionMysql } from '../mysql/provision.ts';
import { seedCats } from '../mysql/seed.ts';
import { benchCodec } from './scenarios/codec.ts';
import { benchEngine } from './scenarios/engine.ts';
import { benchGateway } from './scenarios/gateway.ts';
import { benchRandshow } from './scenarios/randshow.ts';

const SCENARIOS = ['codec', 'randshow', 'gateway', 'engine'] as const;

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    rows: { type: 'string', default: '1000,10000' },
    'budget-ms': { type: 'string', default: '4000' },
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '50' },
    out: { type: 'string', default: 'bench/results/latest.json' },
  },
});
const only = values.only ? values.only.split(',') : [...SCENARIOS];
const budget = Number(values['budget-ms']);
const results: Record<string, unknown> = {
  machine: {
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model,
    node: process.version,
    date: new Date().toISOString(),
  },
};

if (only.includes('codec')) {
  const codec = benchCodec(Math.min(budget, 1500));
  results.codec = codec;
  console.log('\nCodec, 1 MiB (MiB/s)');
  console.table({
    'escaped-base64': { encode: codec.escapedEncodeMiBs, decode: codec.escapedDecodeMiBs },
    'Buffer base64': { encode: codec.bufferEncodeMiBs, decode: codec.bufferDecodeMiBs },
  });
  console.log(
    `round trip escaped ÷ Buffer: ${codec.roundTripRatio}×; stored bytes per image byte: ${codec.storedBytesPerImageByte}`,
  );
}

if (only.includes('randshow')) {
  const { MYSQL_URL: _, ...env } = process.env;
  const server = await provisionMysql({ env, database: 'bench', log: (l) => console.error(l) });
  try {
    await migrate(server.url, { database: 'bench' });
    (results.machine as Record<string, unknown>).mysql = server.version;
    const cells = [];
    for (const rows of values.rows
      .split(',')
      .map(Number)
      .sort((a, b) => a - b)) {
      await seedCats(server.url, rows, 8 * 1024);
      cells.push(...(await benchRandshow(server.url, rows, budget)));
    }
    results.randshow = cells;
    console.log(`\nrandshow p50/p99 (ms), 8 KiB escaped-base64 blobs, MySQL ${server.version}`);
    console.table(cells);
  } finally {
    await server.close();
  }
}

if (only.includes('gateway')) {
  const { MYSQL_URL: _, ...env } = process.env;
  const rows = await benchGateway(Number(values.seconds), Number(values.connections), env);
  results.gateway = rows;
  console.log(
    `\nLocal gateway vs one replica directly (autocannon, ${values.connections} connections, ${values.seconds} s each)`,
  );
  console.table(
    rows.map((r) => ({
      target: r.target,
      'direct rps': r.direct.rps,
      'gateway rps': r.viaGateway.rps,
      'gateway/direct': r.rpsRatio,
      'direct p99 ms': r.direct.p99Ms,
      'gateway p99 ms': r.viaGateway.p99Ms,
      errors: r.direct.errors + r.viaGateway.errors + r.direct.non2xx + r.viaGateway.non2xx,
    })),
  );
}

if (only.includes('engine')) {
  const e = await benchEngine(Number(values.seconds), Number(values.connections));
  results.engine = e;
  console.log(
    `\nNode engine vs autocannon, no-op node:http server, ${e.connections} connections, ${e.seconds} s`,
  );
  console.table({
    'max requests/s': {
      autocannon: e.autocannonRps,
      'node engine': e.engineMaxRps,
      'engine/autocannon': e.maxRatio,
    },
  });
  console.log(
    `at 2000 req/s dialled: achieved ${e.accuracy.achieved} (${e.accuracy.ratio}×), dropped ${e.accuracy.dropped}, p99 ${e.accuracy.p99Ms} ms`,
  );
}

await mkdir('bench/results', { recursive: true });
await writeFile(values.out, `${JSON.stringify(results, null, 2)}\n`);
console.log(`\nwritten: ${values.out}`);
