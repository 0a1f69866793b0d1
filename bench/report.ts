import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { LoadResult } from './autocannon.ts';
import type { CatSourceBench } from './scenarios/catsource.ts';
import type { CodecResult } from './scenarios/codec.ts';
import type { ModeRow } from './scenarios/connection-modes.ts';
import type { EngineResult } from './scenarios/engine.ts';
import type { GatewayRow } from './scenarios/gateway.ts';
import type { MemoryRow } from './scenarios/memory.ts';
import type { RandshowCell } from './scenarios/randshow.ts';
import type { RandstoreBench } from './scenarios/randstore.ts';
import type { ServerOverhead } from './scenarios/server.ts';
import type { StackRow } from './scenarios/stack.ts';
import { barChart } from './svg.ts';

interface Results {
  machine: Record<string, unknown>;
  elapsedS?: number;
  codec?: CodecResult;
  server?: ServerOverhead;
  catsource?: CatSourceBench;
  randstore?: RandstoreBench;
  randshow?: RandshowCell[];
  gateway?: GatewayRow[];
  engine?: EngineResult;
  memory?: { seconds: number; rate: number; rows: MemoryRow[] };
  modes?: ModeRow[];
  stack?: StackRow[];
}

/** One autocannon run's cells: req/s, p50 ms, p99 ms. */
const loadCells = (r: LoadResult) => [r.rps, r.p50Ms, r.p99Ms];

const table = (head: string[], rows: Array<Array<string | number>>) =>
  [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');

type Svg = (name: string, content: string) => Promise<string>;

async function serverSection(r: Results, svg: Svg): Promise<string[]> {
  if (!r.server) return [];
  const s = r.server;
  return [
    '## Function server overhead',
    '',
    `A no-op handler, each server in its own process, autocannon with ${s.connections} connections for ${s.seconds} s.`,
    '',
    table(
      ['server', 'req/s', 'p50 ms', 'p99 ms'],
      [
        ['plain node:http', ...loadCells(s.plain)],
        ['our function server (Fetch-API handler)', ...loadCells(s.functionServer)],
        ['Express, as the OpenFaaS node template', ...loadCells(s.express)],
      ],
    ),
    '',
    `**ours/plain ${s.oursOverPlain}×** (median of ${s.rounds ?? 1} interleaved rounds: ${(s.roundRatios ?? [s.oursOverPlain]).join(', ')}), **ours/Express ${s.oursOverExpress}×**`,
    '',
    await svg(
      'server.svg',
      barChart('No-op handler: requests/s', 'req/s', [
        { label: 'plain node:http', bars: [{ label: 'req/s', value: s.plain.rps }] },
        { label: 'function server', bars: [{ label: 'req/s', value: s.functionServer.rps }] },
        { label: 'Express template', bars: [{ label: 'req/s', value: s.express.rps }] },
      ]),
    ),
    '',
  ];
}

async function catSourceSection(r: Results): Promise<string[]> {
  if (!r.catsource) return [];
  const c = r.catsource;
  return [
    '## Local cat source',
    '',
    table(
      ['', 'req/s', 'p50 ms', 'p99 ms'],
      [
        ['`GET /cat`: a cat of the pool drawn at start', ...loadCells(c.pooled)],
        ['`GET /cat?width=…`: drawn for the request', ...loadCells(c.drawn)],
      ],
    ),
    '',
    `From the pool ÷ drawn: **${c.pooledOverDrawn}×**; drawing the pool took ${c.startMs} ms at start.`,
    '',
  ];
}

async function randstoreSection(r: Results): Promise<string[]> {
  if (!r.randstore) return [];
  const s = r.randstore;
  return [
    '## randstore',
    '',
    table(
      ['image check, 4 at a time over the cat source’s pool', 'cats/s'],
      [
        ['decode into a 64-px thumbnail (now)', s.check.thumbnailPerS],
        ['`stats()` of every pixel (before)', s.check.statsPerS],
      ],
    ),
    '',
    `Thumbnail ÷ stats(): **${s.check.ratio}×**. End to end on one replica, autocannon 16 connections, the local cat source:`,
    '',
    table(
      ['', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx'],
      [
        ['POST to the replica', ...loadCells(s.direct), s.direct.non2xx],
        ['POST /function/randstore', ...loadCells(s.viaGateway), s.viaGateway.non2xx],
      ],
    ),
    '',
  ];
}

async function randshowSection(r: Results, svg: Svg): Promise<string[]> {
  if (!r.randshow) return [];
  const rows = [...new Set(r.randshow.map((c) => c.rows))];
  const strategies = [...new Set(r.randshow.map((c) => c.strategy))];
  const cell = (rowsN: number, s: string) => r.randshow?.find((c) => c.rows === rowsN && c.strategy === s);
  return [
    '## randshow strategies',
    '',
    '8 KiB escaped-base64 blobs; the handler called as a replica calls it (json format, sha256 checked).',
    '',
    table(
      ['rows', ...strategies.flatMap((s) => [`${s} p50 ms`, `${s} p99 ms`])],
      rows.map((n) => [
        n.toLocaleString('en'),
        ...strategies.flatMap((s) => [cell(n, s)?.p50Ms ?? '-', cell(n, s)?.p99Ms ?? '-']),
      ]),
    ),
    '',
    `Growth from ${rows[0]?.toLocaleString('en')} to ${rows.at(-1)?.toLocaleString('en')} rows (p50): ` +
      strategies
        .map(
          (s) =>
            `${s} ${((cell(rows.at(-1) as number, s)?.p50Ms ?? 0) / (cell(rows[0] as number, s)?.p50Ms ?? 1)).toFixed(1)}×`,
        )
        .join(', '),
    '',
    await svg(
      'randshow.svg',
      barChart(
        'randshow p50 by table size (log scale)',
        'ms',
        rows.map((n) => ({
          label: `${n.toLocaleString('en')} rows`,
          bars: strategies.map((s) => ({ label: s, value: cell(n, s)?.p50Ms ?? 0 })),
        })),
        { log: true },
      ),
    ),
    '',
  ];
}

async function codecSection(r: Results): Promise<string[]> {
  if (!r.codec) return [];
  const c = r.codec;
  return [
    '## Codec',
    '',
    table(
      ['1 MiB', 'encode MiB/s', 'decode MiB/s'],
      [
        ['escaped-base64', c.escapedEncodeMiBs, c.escapedDecodeMiBs],
        ['Buffer base64', c.bufferEncodeMiBs, c.bufferDecodeMiBs],
      ],
    ),
    '',
    `Round trip escaped ÷ Buffer: **${c.roundTripRatio}×**. Stored bytes per image byte: escaped-base64 **${c.storedBytesPerImageByte}**, raw 1.`,
    '',
  ];
}

async function gatewaySection(r: Results, svg: Svg): Promise<string[]> {
  if (!r.gateway) return [];
  return [
    '## Local gateway',
    '',
    `Each side run ${r.gateway[0]?.rounds ?? 1} times, interleaved; the ratios are medians of the rounds' own. The anchor is the thinnest Node proxy (bench/thin-proxy.ts) to the same replica.`,
    '',
    table(
      [
        'target',
        'direct req/s',
        'anchor req/s',
        'via /function req/s',
        'gateway/direct',
        'gateway/anchor (rounds)',
        'CPU µs a call: anchor / gateway (their replica)',
        'direct p99 ms',
        'gateway p99 ms',
      ],
      r.gateway.map((g) => [
        g.target,
        g.direct.rps,
        g.anchor.rps,
        g.viaGateway.rps,
        `${g.rpsRatio}×`,
        `${g.overAnchor}× (${g.overAnchorRounds.join(', ')})`,
        `${g.cpuUsPerCall.anchor} / ${g.cpuUsPerCall.gateway} (${g.cpuUsPerCall.replicaViaAnchor} / ${g.cpuUsPerCall.replicaViaGateway})`,
        g.direct.p99Ms,
        g.viaGateway.p99Ms,
      ]),
    ),
    '',
    await svg(
      'gateway.svg',
      barChart(
        'Through the gateway vs the thin-proxy anchor vs one replica directly',
        'req/s',
        r.gateway.map((g) => ({
          label: g.target,
          bars: [
            { label: 'direct', value: g.direct.rps },
            { label: 'anchor', value: g.anchor.rps },
            { label: 'via /function', value: g.viaGateway.rps },
          ],
        })),
      ),
    ),
    '',
  ];
}

async function engineSection(r: Results): Promise<string[]> {
  if (!r.engine) return [];
  const e = r.engine;
  return [
    '## Load engine',
    '',
    table(
      ['', 'req/s'],
      [
        ['autocannon, closed loop', e.autocannonRps],
        ['Node engine, highest open-loop rate held (within 1 %, no drops)', e.engineMaxRps],
      ],
    ),
    '',
    `Engine/autocannon **${e.maxRatio}×** on the same no-op server and ${e.connections} connections. Dialled at 2,000 req/s: achieved ${e.accuracy.achieved}/s (**${e.accuracy.ratio}×**), ${e.accuracy.dropped} dropped, p99 ${e.accuracy.p99Ms} ms.`,
    '',
  ];
}

async function memorySection(r: Results): Promise<string[]> {
  if (!r.memory) return [];
  return [
    '## Replica memory',
    '',
    `RSS before, half way through and after ${r.memory.seconds} s at ${r.memory.rate} req/s (\`--long\`: 10 minutes).`,
    '',
    table(
      [
        'replica',
        'requests',
        'RSS before MiB',
        'half way MiB',
        'after MiB',
        'after/before',
        'after/half way',
      ],
      r.memory.rows.map((x) => [
        x.fn,
        x.requests,
        x.beforeMiB,
        x.midMiB ?? '—',
        x.afterMiB,
        `${x.growth}×`,
        x.lastHalfGrowth === undefined ? '—' : `${x.lastHalfGrowth}×`,
      ]),
    ),
    '',
  ];
}

async function modesSection(r: Results, svg: Svg): Promise<string[]> {
  if (!r.modes) return [];
  return [
    '## Connection modes',
    '',
    table(
      [
        'mode',
        'pool per replica',
        'ok',
        'DB_TOO_MANY_CONNECTIONS',
        'other errors',
        'worst p50 ms',
        'worst p99 ms',
      ],
      r.modes.map((x) => [
        x.mode,
        x.poolPerReplica,
        x.ok,
        x.tooManyConnections,
        x.otherErrors,
        x.p50Ms,
        x.p99Ms,
      ]),
    ),
    '',
    `${r.modes[0]?.replicas} randshow replicas, max_connections = ${r.modes[0]?.maxConnections}, ${r.modes[0]?.rate} req/s of order-by-rand.`,
    '',
    await svg(
      'modes.svg',
      barChart(
        'Connection modes: answers by outcome',
        'requests',
        r.modes.map((x) => ({
          label: x.mode,
          bars: [
            { label: 'ok', value: x.ok },
            { label: 'too many connections', value: x.tooManyConnections },
          ],
        })),
      ),
    ),
    '',
  ];
}

async function stackSection(r: Results): Promise<string[]> {
  if (!r.stack?.length) return [];
  const parts = [...new Set(r.stack.flatMap((x) => Object.keys(x.cpuShare)))];
  const pct = (n: number | undefined) => (n === undefined ? '—' : `${Math.round(n * 100)} %`);
  return [
    '## The whole local stack',
    '',
    'Highest rate held at 1 : 3 (randshow `random-id`, scaling off): everything answered within 1 %, nothing failed or dropped, p99 under 1 s. Then each process’s share of the CPU the stack used at that rate.',
    '',
    table(
      ['replicas per function', 'max req/s', 'CPU s per 1,000 req', ...parts],
      r.stack.map((x) => [x.replicas, x.maxRate, x.cpuPer1000, ...parts.map((p) => pct(x.cpuShare[p]))]),
    ),
    '',
  ];
}

const SECTIONS = [
  serverSection,
  catSourceSection,
  randstoreSection,
  randshowSection,
  codecSection,
  gatewaySection,
  engineSection,
  memorySection,
  modesSection,
  stackSection,
];

/** Writes report.md (tables, ratios, machine facts) and its SVG plots into `dir`. */
export async function writeReport(input: Record<string, unknown>, dir: string): Promise<string> {
  const r = input as unknown as Results;
  await mkdir(dir, { recursive: true });
  const svg: Svg = async (name, content) => {
    await writeFile(path.join(dir, name), content);
    return `![${name}](${name})`;
  };
  const m = r.machine;
  const out: string[] = [
    '# SystemBreaker benchmarks',
    '',
    `Generated by \`npm run bench\` on ${m.date}: ${m.cores} cores (${m.cpu}), ${m.memGiB} GiB, Node ${m.node}${m.mysql ? `, MySQL ${m.mysql}` : ''}; the run took ${r.elapsedS ?? '?'} s.`,
    'Load tool, servers and MySQL share the same cores: read the ratios, not the absolute numbers.',
    '',
  ];
  for (const section of SECTIONS) out.push(...(await section(r, svg)));
  const file = path.join(dir, 'report.md');
  await writeFile(file, `${out.join('\n')}\n`);
  return file;
}
