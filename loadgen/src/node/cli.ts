import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { z } from 'zod';
import { type DbStats, STRATEGIES } from '../../../contract/functions.ts';
import { PROFILES } from '../../../contract/plan.ts';
import type { FunctionSummary, RunResults } from '../../../contract/results.ts';
import { runMain, UsageError } from '../../../functions/lib/cli.ts';
import { httpUrl, int, parseEnv, type VariableSpec } from '../../../functions/lib/env.ts';
import { planFromText, totalDurationS } from '../core/plan.ts';
import { reportAssets } from '../report/assets.ts';
import { renderReport } from '../report/render.ts';
import { LoadEngine } from './engine.ts';
import { progressPrinter } from './progress.ts';
import { SystemWatcher } from './system.ts';

const usage = `Usage: npm run load -- [options]

  --target URL         gateway base URL (default http://127.0.0.1:8080)
  --rate N             total requests/s (the held rate of a profile; default 20)
  --ratio R            randstore=1,randshow=3 or 1:3 (default 1:3)
  --duration D         30s, 5m, 1h (default 60s; 0 = until Ctrl-C, constant only)
  --profile P          ${PROFILES.join(' | ')} (default constant)
  --strategy S         randshow's ${STRATEGIES.join(' | ')} (default order-by-rand)
  --max-in-flight N    sends due beyond this many in flight are dropped and counted (default 512)
  --connections N      sockets to the gateway (default 64)
  --timeout-ms N       per request (default 30000)
  --max-error-ratio R  the run fails (exit 1) when more of its calls than this fail (default 0.01, as k6's)
  --out FILE           write the results as JSON (the browser app's export format)
  --report FILE        write the results as a self-contained HTML report (as npm run report does)
  --auth-user U        the gateway's user for /system/* (OpenFaaS asks for basic auth there),
  --auth-password-file F   with its password read from a file: the replicas are recorded then

The results carry the replicas, their CPU and the database (dbstats) as the gateway showed them
every second or two during the run.`;

/** The flags that are not the plan, checked as the functions' environment is. */
const FLAGS = {
  '--target': { schema: httpUrl, allowed: 'an http(s) URL', default: undefined, description: '' },
  '--max-in-flight': {
    schema: int(1, 100_000),
    allowed: 'integer 1–100000',
    default: undefined,
    description: '',
  },
  '--connections': {
    schema: int(1, 10_000),
    allowed: 'integer 1–10000',
    default: undefined,
    description: '',
  },
  '--timeout-ms': {
    schema: int(1, 600_000),
    allowed: 'integer 1–600000',
    default: undefined,
    description: '',
  },
  '--max-error-ratio': {
    schema: z.coerce.number().min(0).max(1),
    allowed: 'a number from 0 to 1',
    default: '0.01',
    description: '',
  },
} satisfies Record<string, VariableSpec>;

function parse() {
  const { values } = parseArgs({
    options: {
      target: { type: 'string', default: 'http://127.0.0.1:8080' },
      rate: { type: 'string', default: '20' },
      ratio: { type: 'string', default: '1:3' },
      duration: { type: 'string', default: '60s' },
      profile: { type: 'string', default: 'constant' },
      strategy: { type: 'string', default: 'order-by-rand' },
      'max-in-flight': { type: 'string', default: '512' },
      connections: { type: 'string', default: '64' },
      'timeout-ms': { type: 'string', default: '30000' },
      'max-error-ratio': { type: 'string' },
      out: { type: 'string' },
      report: { type: 'string' },
      'auth-user': { type: 'string' },
      'auth-password-file': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      verbose: { type: 'boolean' },
    },
  });
  const flags = parseEnv(
    FLAGS,
    {
      '--target': values.target,
      '--max-in-flight': values['max-in-flight'],
      '--connections': values.connections,
      '--timeout-ms': values['timeout-ms'],
      '--max-error-ratio': values['max-error-ratio'],
    },
    ['--target', '--max-in-flight', '--connections', '--timeout-ms'],
  );
  return { values, flags, plan: planFromText(values) };
}

/** Like k6's setup(): no load is aimed at a target where no gateway answers. */
async function checkTarget(target: string): Promise<void> {
  const url = `${target.replace(/\/+$/, '')}/healthz`;
  try {
    const res = await request(url, { headersTimeout: 3000, bodyTimeout: 3000 });
    await res.body.dump();
    if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
  } catch (err) {
    const reason = (err as { code?: string }).code ?? (err as Error).message;
    throw new UsageError(
      `no gateway answers at ${target} (GET /healthz: ${reason}); start one with npm start, or set --target`,
    );
  }
}

/** How many cats dbstats reports, or undefined when it does not answer (it is not required). */
async function storedCats(target: string): Promise<number | undefined> {
  try {
    const res = await request(`${target.replace(/\/+$/, '')}/function/dbstats`, {
      headersTimeout: 3000,
      bodyTimeout: 3000,
    });
    if (res.statusCode !== 200) {
      await res.body.dump();
      return undefined;
    }
    return ((await res.body.json()) as DbStats).rows;
  } catch {
    return undefined;
  }
}

/** Basic auth for /system/*, from --auth-user and a password file (never a password on the command line). */
async function authHeaders(user?: string, passwordFile?: string): Promise<Record<string, string>> {
  if (!user && !passwordFile) return {};
  if (!user || !passwordFile) throw new UsageError('--auth-user and --auth-password-file go together');
  let password: string;
  try {
    password = (await readFile(passwordFile, 'utf8')).trim();
  } catch (err) {
    throw new UsageError(
      `cannot read --auth-password-file ${passwordFile}: ${(err as NodeJS.ErrnoException).code}`,
    );
  }
  return { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
}

/** Says once per kind why the replicas or the database are missing from the results. */
function problemPrinter(): (what: string) => void {
  const said = new Set<string>();
  return (what) => {
    const kind = what.replace(/:.*/, '');
    if (said.has(kind)) return;
    said.add(kind);
    const hint = what.endsWith('HTTP 401') ? ' (give --auth-user and --auth-password-file)' : '';
    process.stderr.write(`load: not recorded while it fails: ${what}${hint}\n`);
  };
}

async function writeOutputs(results: RunResults, out?: string, report?: string): Promise<void> {
  if (out) {
    await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
    process.stderr.write(`results: ${out}\n`);
  }
  if (report) {
    await writeFile(report, renderReport(results, await reportAssets()));
    process.stderr.write(`report: ${report}\n`);
  }
}

const errorsOf = (s: FunctionSummary) =>
  Object.entries(s.byCode)
    .map(([c, n]) => `${c}:${n}`)
    .join(' ') || '0';

function summarise(results: RunResults): void {
  console.table(
    Object.fromEntries(
      results.summary.map((s) => [
        s.fn,
        {
          count: s.completed,
          'rate/s': s.rate,
          'p50 ms': s.p50,
          'p90 ms': s.p90,
          'p99 ms': s.p99,
          'max ms': s.max,
          errors: errorsOf(s),
          dropped: s.dropped,
        },
      ]),
    ),
  );
}

async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  const { values, flags, plan } = parse();
  const headers = await authHeaders(values['auth-user'], values['auth-password-file']);
  await checkTarget(flags['--target']);
  if (plan.ratio.randshow > 0 && (await storedCats(flags['--target'])) === 0)
    process.stderr.write(
      'load: the cats table is empty: randshow answers 404 NO_CATS (counted as failed) until randstore has stored one\n',
    );
  const engine = new LoadEngine({
    target: flags['--target'],
    plan,
    maxInFlight: flags['--max-in-flight'],
    connections: flags['--connections'],
    timeoutMs: flags['--timeout-ms'],
    onEvent: progressPrinter(totalDurationS(plan)),
  });
  process.on('SIGINT', () => engine.stop());
  process.stderr.write(`load: ${JSON.stringify(plan)} → ${flags['--target']}\n`);
  const watcher = new SystemWatcher({ target: flags['--target'], headers, onProblem: problemPrinter() });
  const results: RunResults = { ...(await engine.run()), system: await watcher.stop() };
  summarise(results);
  await writeOutputs(results, values.out, values.report);
  const completed = results.summary.reduce((n, s) => n + s.completed, 0);
  const failed = results.summary.reduce((n, s) => n + s.completed - s.byClass['2xx'], 0);
  const ratio = completed > 0 ? failed / completed : 1;
  if (ratio > flags['--max-error-ratio'])
    throw new Error(
      `the run failed its threshold: ${(ratio * 100).toFixed(1)} % of ${completed} calls failed, ` +
        `more than --max-error-ratio ${flags['--max-error-ratio']}`,
    );
}

await runMain(main);
