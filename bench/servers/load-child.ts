import { parsePlan } from '../../contract/plan.ts';
import { LoadEngine } from '../../loadgen/src/node/engine.ts';

/**
 * The Node load engine in a process of its own, for the stack scenario: one constant run at
 * the rate given, then its summary and the CPU it used, as one line of JSON on stdout.
 *   node --import tsx bench/servers/load-child.ts TARGET RATE SECONDS
 */
const [target = '', rate = '0', seconds = '0'] = process.argv.slice(2);
const engine = new LoadEngine({
  target,
  plan: parsePlan({
    rate: Number(rate),
    durationS: Number(seconds),
    ratio: { randstore: 1, randshow: 3 },
    strategy: 'random-id',
    profile: 'constant',
  }),
  maxInFlight: 2048,
  connections: 256,
  timeoutMs: 10_000,
});
const results = await engine.run();
const cpu = process.cpuUsage();
process.stdout.write(
  `${JSON.stringify({ summary: results.summary, cpuSeconds: (cpu.user + cpu.system) / 1e6 })}\n`,
);
