import { parseArgs } from 'node:util';
import { z } from 'zod';
import { STRATEGIES } from '../../../contract/functions.ts';
import { PROFILES } from '../../../contract/plan.ts';
import type { RunResults } from '../../../contract/results.ts';
import { runMain } from '../../../functions/lib/cli.ts';
import { httpUrl, int, parseEnv, type VariableSpec } from '../../../functions/lib/env.ts';
import { planFromText, totalDurationS } from '../core/plan.ts';
import { LoadEngine } from './engine.ts';
import {
  authHeaders,
  checkTarget,
  problemPrinter,
  storedCats,
  summarise,
  writeOutputs,
} from './gateway-client.ts';
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
