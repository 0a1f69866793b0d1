import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { STRATEGIES } from '../../../contract/functions.ts';
import { type Plan, PROFILES } from '../../../contract/plan.ts';
import {
  ConfigError,
  httpUrl,
  int,
  type ParsedEnv,
  parseEnv,
  type VariableSpec,
} from '../../../functions/lib/env.ts';
import { planFromText } from '../core/plan.ts';
import { LoadEngine } from './engine.ts';

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
  --out FILE           write the results as JSON (the browser app's export format)`;

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
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}

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
} satisfies Record<string, VariableSpec>;

let plan: Plan;
let flags: ParsedEnv<typeof FLAGS>;
try {
  flags = parseEnv(
    FLAGS,
    {
      '--target': values.target,
      '--max-in-flight': values['max-in-flight'],
      '--connections': values.connections,
      '--timeout-ms': values['timeout-ms'],
    },
    Object.keys(FLAGS) as Array<keyof typeof FLAGS>,
  );
  plan = planFromText(values);
} catch (err) {
  const message = err instanceof ConfigError ? err.problems.join('\n') : (err as Error).message;
  process.stderr.write(`${message}\n\n${usage}\n`);
  process.exit(2);
}

let totalErrors = 0;
let totalDropped = 0;
let worstP99 = 0;
const engine = new LoadEngine({
  target: flags['--target'],
  plan,
  maxInFlight: flags['--max-in-flight'],
  connections: flags['--connections'],
  timeoutMs: flags['--timeout-ms'],
  onEvent(event) {
    if (event.type !== 'second') return;
    const { stats, inFlight } = event;
    const t = stats[0]?.t ?? 0;
    const dialled = stats.reduce((s, x) => s + x.dialled, 0);
    const achieved = stats.reduce((s, x) => s + x.completed, 0);
    const errors = stats.reduce((s, x) => s + x.completed - x.byClass['2xx'], 0);
    totalErrors += errors;
    totalDropped += stats.reduce((s, x) => s + x.dropped, 0);
    worstP99 = Math.max(worstP99, ...stats.map((x) => x.p99));
    process.stderr.write(
      `t=${t + 1}s  dialled ${dialled.toFixed(1)}/s  achieved ${achieved}/s  in-flight ${inFlight}  ` +
        `p99 so far ${worstP99.toFixed(1)} ms  errors ${totalErrors}  dropped ${totalDropped}\n`,
    );
  },
});
process.on('SIGINT', () => engine.stop());

process.stderr.write(`load: ${JSON.stringify(plan)} → ${flags['--target']}\n`);
const results = await engine.run();
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
        errors: Object.entries(s.byCode)
          .map(([c, n]) => `${c}:${n}`)
          .join(' '),
        dropped: s.dropped,
      },
    ]),
  ),
);
if (values.out) {
  await writeFile(values.out, `${JSON.stringify(results, null, 2)}\n`);
  process.stderr.write(`results: ${values.out}\n`);
}
