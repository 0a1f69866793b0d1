import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { CONNECTION_MODES, STRATEGIES } from '../contract/functions.ts';
import type { Plan } from '../contract/plan.ts';
import type { RunResults } from '../contract/results.ts';
import { runMain, UsageError } from '../functions/lib/cli.ts';
import { createLogger } from '../functions/lib/log.ts';
import { POLICY_NAMES } from '../gateway/autoscale/policies.ts';
import { parseGatewayConfig } from '../gateway/config.ts';
import { startLocalStack } from '../gateway/local-stack.ts';
import { dbText } from '../loadgen/src/core/narrate.ts';
import { planFromText, seedDemoShape, totalDurationS } from '../loadgen/src/core/plan.ts';
import { compareRuns, peaksOf } from '../loadgen/src/core/summary.ts';
import { learnRule, runDemo } from '../loadgen/src/node/demo.ts';
import {
  authHeaders,
  checkTarget,
  problemPrinter,
  readRunResults,
  storedCats,
  summarise,
  writeOutputs,
} from '../loadgen/src/node/gateway-client.ts';

const usage = `Usage: npm run demo -- [options]

The talk's demo in one command: traffic above the alert's threshold, APIHighInvocationRate
firing, replicas climbing to the maximum, connections piling up on MySQL, then quiet and back
to one replica — told on the terminal as it happens, then a summary, the run's JSON and its
HTML report.

  --target URL             a gateway that is already running (default: the local stack at
                           127.0.0.1:GATEWAY_PORT if one answers, else one started for the demo)
  --policy P               for a stack started here: ${POLICY_NAMES.join(' | ')} (default openfaas-2018, the talk's)
  --connection-mode M      for a stack started here: ${CONNECTION_MODES.join(' | ')} (default: stack.yml's)
  --strategy S             randshow's ${STRATEGIES.join(' | ')} (default order-by-rand, the talk's)
  --rate N                 the peak rate (default: what puts every function at twice the threshold)
  --ratio R                randstore:randshow (default 1:3)
  --compare FILE           a previous demo's JSON: the summary puts the two runs side by side
  --out-dir DIR            where the JSON and the HTML report go (default demo-results)
  --auth-user U            for a gateway that asks for basic auth on /system/*,
  --auth-password-file F   with its password read from a file`;

const APP_DIR = fileURLToPath(new URL('../loadgen/dist/', import.meta.url));

function parse() {
  const { values } = parseArgs({
    options: {
      target: { type: 'string' },
      policy: { type: 'string' },
      'connection-mode': { type: 'string' },
      strategy: { type: 'string', default: 'order-by-rand' },
      rate: { type: 'string', default: '1' },
      ratio: { type: 'string', default: '1:3' },
      compare: { type: 'string' },
      'out-dir': { type: 'string', default: 'demo-results' },
      'auth-user': { type: 'string' },
      'auth-password-file': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      verbose: { type: 'boolean' },
    },
  });
  const oneOf = (flag: string, value: string | undefined, allowed: readonly string[]) => {
    if (value !== undefined && !allowed.includes(value))
      throw new UsageError(`--${flag} must be one of ${allowed.join(', ')}; got ${JSON.stringify(value)}`);
  };
  oneOf('policy', values.policy, POLICY_NAMES);
  oneOf('connection-mode', values['connection-mode'], CONNECTION_MODES);
  if (values.target && (values.policy || values['connection-mode']))
    throw new UsageError('--policy and --connection-mode are for a stack the demo starts; not with --target');
  const plan = planFromText({
    profile: 'seed-demo',
    rate: values.rate,
    ratio: values.ratio,
    strategy: values.strategy,
  });
  return { values, plan };
}

/** A gateway to run against: the one given, the local one if it answers, else a stack started here. */
async function findGateway(values: ReturnType<typeof parse>['values'], say: (line: string) => void) {
  if (values.target) {
    await checkTarget(values.target);
    return { url: values.target, started: false, stop: async () => {} };
  }
  const env = {
    ...process.env,
    ...(values.policy ? { SCALING_POLICY: values.policy } : {}),
    ...(values['connection-mode'] ? { REPLICA_CONNECTION_MODE: values['connection-mode'] } : {}),
  };
  const config = parseGatewayConfig(env);
  if (config.GATEWAY_PORT !== 0) {
    const running = `http://127.0.0.1:${config.GATEWAY_PORT}`;
    const answers = await checkTarget(running).then(
      () => true,
      () => false,
    );
    if (answers) {
      if (values.policy || values['connection-mode'])
        throw new UsageError(
          `a stack is already running at ${running}: stop it to start one with --policy/--connection-mode, or leave them out to use it`,
        );
      say(`using the stack already running at ${running}`);
      return { url: running, started: false, stop: async () => {} };
    }
  }
  say(`starting the local stack (policy ${config.SCALING_POLICY})…`);
  const stack = await startLocalStack({
    config,
    persistent: true,
    env,
    log: createLogger('warn', { component: 'gateway' }),
    onStep: (line) => say(`  ${line}`),
    ...(existsSync(APP_DIR) ? { staticDir: APP_DIR } : {}),
  });
  return { url: stack.gateway.url, started: true, stop: () => stack.stop() };
}

/** randshow answers 404 NO_CATS from an empty table: a few cats first, so the story starts with a working demo. */
async function seedIfEmpty(target: string, plan: Plan, say: (line: string) => void): Promise<void> {
  if (plan.ratio.randshow <= 0 || (await storedCats(target)) !== 0) return;
  const seeds = 5;
  say(`the cats table is empty: storing ${seeds} cats first, so that randshow has something to show`);
  for (let i = 0; i < seeds; i++) {
    const res = await request(`${target.replace(/\/+$/, '')}/function/randstore`, { method: 'POST' });
    await res.body.dump();
    if (res.statusCode !== 200)
      throw new Error(`randstore answered HTTP ${res.statusCode} while seeding the table`);
  }
}

/** The closing summary: the table, the peaks, the story's count, and two runs side by side. */
function conclude(results: RunResults, previous: RunResults | undefined, say: (line: string) => void): void {
  summarise(results);
  const peaks = peaksOf(results);
  for (const [fn, p] of Object.entries(peaks.functions))
    say(
      `${fn}: at most ${p.replicas} replica${p.replicas === 1 ? '' : 's'}${p.cpu === undefined ? '' : `, ${p.cpu} millicores`}`,
    );
  if (peaks.db) say(`peak: ${dbText(peaks.db)}`);
  const scale = results.notes?.filter((n) => n.kind === 'scale').length ?? 0;
  say(`${scale} scale event${scale === 1 ? '' : 's'} during the run`);
  if (previous) {
    say('\nthis run beside the previous one:');
    console.table(compareRuns(previous, results));
  }
}

async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const { values, plan } = parse();
  const headers = await authHeaders(values['auth-user'], values['auth-password-file']);
  const previous = values.compare ? await readRunResults(values.compare, '--compare') : undefined;
  const gateway = await findGateway(values, say);
  let stopping = false;
  process.on('SIGINT', () => {
    if (stopping) process.exit(130);
    stopping = true;
    say('\nSIGINT: ending the load early; the summary and the files follow (Ctrl-C again to quit at once)');
    run?.stop();
  });
  let run: ReturnType<typeof runDemo> | undefined;
  try {
    await seedIfEmpty(gateway.url, plan, say);
    const learned = await learnRule(gateway.url, headers);
    const shape = seedDemoShape(plan, learned.rule);
    // The run records the peak it ran at, not the floor it was given.
    plan.rate = shape.high;
    const { rule } = learned;
    say(
      [
        `\nThe talk's demo against ${gateway.url} (${learned.policy}; ${learned.source}):`,
        `  APIHighInvocationRate: > ${rule.thresholdRps} calls/s over ${rule.windowS} s for ${rule.forS} s; while it fires, scaled again every ${rule.repeatS} s (${rule.stepsToMax} step${rule.stepsToMax === 1 ? '' : 's'} to max)`,
        `  load: ${shape.high}/s at randstore ${plan.ratio.randstore} : randshow ${plan.ratio.randshow} (${plan.strategy}), then ${shape.low}/s — ${Math.round(totalDurationS(plan, rule))} s in all`,
        ...(existsSync(APP_DIR) && !values.target ? [`  watch it live: ${gateway.url}/`] : []),
        '',
      ].join('\n'),
    );
    run = runDemo({ target: gateway.url, headers, plan, rule, say, onProblem: problemPrinter('demo') });
    const results = await run.done;
    say('');
    conclude(results, previous, say);
    const dir = values['out-dir'];
    await mkdir(dir, { recursive: true });
    const stem = path.join(dir, `demo-${results.startedAt.replace(/[:.]/g, '-')}`);
    await writeOutputs(results, `${stem}.json`, `${stem}.html`);
    say(
      `\nthe run: ${stem}.json\nits report: ${stem}.html (open it in a browser)\nreplay it with a fix: npm run demo -- --connection-mode budget --compare ${stem}.json`,
    );
  } finally {
    if (gateway.started) {
      say('stopping the stack the demo started…');
      await gateway.stop();
    }
  }
}

await runMain(main);
