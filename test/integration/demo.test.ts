import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScaleEvent } from '../../contract/openfaas.ts';
import { parseRunResults, type RunResults } from '../../contract/results.ts';
import type { LocalStack } from '../../gateway/local-stack.ts';
import { runToEnd } from '../support/process.ts';
import { startTestStack } from '../support/stack.ts';

let stack: LocalStack;
let out: string;

beforeAll(async () => {
  // Community Edition's rule on a short clock: > 5 calls/s over 2 s for 1 s, +2 replicas every
  // 3 s up to the fixture's 4 (factor 50): 1 → 3 → 4, then back to 1.
  stack = await startTestStack({
    SCALING_POLICY: 'openfaas-ce',
    ALERT_WINDOW_S: '2',
    ALERT_FOR_S: '1',
    ALERT_REPEAT_S: '3',
    SCALER_TICK_MS: '250',
  });
  out = await mkdtemp(path.join(tmpdir(), 'sb-demo-'));
});
afterAll(async () => {
  await stack?.stop();
  if (out) await rm(out, { recursive: true, force: true });
});

const demo = (...args: string[]) => runToEnd(['--import', 'tsx', 'scripts/demo.ts', ...args], {});

async function newestRun(): Promise<{ file: string; results: RunResults }> {
  const files = (await readdir(out)).filter((f) => f.endsWith('.json')).sort();
  const file = path.join(out, files.at(-1) as string);
  return { file, results: parseRunResults(JSON.parse(await readFile(file, 'utf8'))) };
}

describe('npm run demo', () => {
  it('tells the scaling story as the gateway recorded it, then writes the run and its report', async () => {
    const { code, output } = await demo(
      '--target',
      stack.gateway.url,
      '--strategy',
      'random-id',
      '--out-dir',
      out,
    );
    expect(code, output).toBe(0);
    expect(output).toContain('the cats table is empty: storing 5 cats first');
    expect(output).toContain(
      '> 5 calls/s over 2 s for 1 s; while it fires, scaled again every 3 s (2 steps to max)',
    );
    const { file, results } = await newestRun();
    const startMs = Date.parse(results.startedAt);
    const events = (
      (await (await fetch(`${stack.gateway.url}/system/scale-events`)).json()) as ScaleEvent[]
    ).filter((e) => Date.parse(e.at) >= startMs);
    const told = results.notes?.filter((n) => n.kind === 'scale') ?? [];
    // Every event the gateway recorded, told once, in its words, at its time, in the output too.
    expect(
      told
        .map(
          (n) =>
            `${n.fn} ${n.text
              .match(/(\d+) → (\d+)/)
              ?.slice(1)
              .join('→')}`,
        )
        .sort(),
    ).toEqual(events.map((e) => `${e.function} ${e.from}→${e.to}`).sort());
    for (const e of events) {
      const note = told.find((n) => n.fn === e.function && n.text.includes(`${e.from} → ${e.to} `));
      expect(note?.t).toBeCloseTo((Date.parse(e.at) - startMs) / 1000, 0);
      expect(output).toContain(note?.text);
    }
    // The whole story, for both functions: fired, still firing up to max, resolved back to one.
    for (const fn of ['randstore', 'randshow']) {
      const lines = told
        .filter((n) => n.fn === fn)
        .map((n) => n.text.replace(/ \(.*?\)/, '').replace(/ ·.*/, ''));
      expect(lines, fn).toEqual([
        `APIHighInvocationRate fired for ${fn}: 1 → 3 replicas`,
        `APIHighInvocationRate still firing for ${fn}: 3 → 4 replicas`,
        `APIHighInvocationRate resolved for ${fn}: 4 → 1 replica`,
      ]);
    }
    expect(told[0]?.text).toMatch(/\(\d+(\.\d)?\/s > 5\): 1 → 3 replicas · MySQL \d+\/\d+ connections/);
    expect(output).toMatch(/randshow: at most 4 replicas/);
    const report = await readFile(file.replace(/\.json$/, '.html'), 'utf8');
    expect(report).toContain('<h2>What happened</h2>');
    expect(output).toContain(`its report: ${file.replace(/\.json$/, '.html')}`);
  });

  it('puts a replay beside the run it is given', async () => {
    const { file: previous } = await newestRun();
    const { code, output } = await demo(
      '--target',
      stack.gateway.url,
      '--strategy',
      'pk-subquery',
      '--out-dir',
      out,
      '--compare',
      previous,
    );
    expect(code, output).toBe(0);
    expect(output).toContain('this run beside the previous one:');
    expect(output).toMatch(/│ strategy\s+│ 'random-id'\s+│ 'pk-subquery'/);
    expect(output).toMatch(/│ MySQL peak connections\s+│ '\d+'/);
  });

  it('refuses a policy it does not know and options that cannot apply to a running gateway: exit 2 and why', async () => {
    const bogus = await demo('--policy', 'kubernetes-hpa');
    expect(bogus.code).toBe(2);
    expect(bogus.output.trim()).toBe(
      '--policy must be one of openfaas-2018, openfaas-ce, rps-target, off; got "kubernetes-hpa"',
    );
    const both = await demo('--target', stack.gateway.url, '--connection-mode', 'budget');
    expect(both.code).toBe(2);
    expect(both.output.trim()).toBe(
      '--policy and --connection-mode are for a stack the demo starts; not with --target',
    );
  });
});
