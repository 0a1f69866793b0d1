import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScaleEvent } from '../../contract/openfaas.ts';
import { parseRunResults, type RunResults } from '../../contract/results.ts';
import type { LocalStack } from '../../gateway/local-stack.ts';
import { launchChromium } from '../support/browser/harness.ts';
import { ROOT, runToEnd } from '../support/process.ts';
import { startTestStack } from '../support/stack.ts';

const APP = path.join(ROOT, 'test-results', 'app-dist-demo');
let stack: LocalStack;
let out: string;
let browser: Browser | undefined;

beforeAll(async () => {
  // Community Edition's rule on a short clock: > 5 calls/s over 2 s for 1 s, +2 replicas every
  // 3 s up to the fixture's 4 (factor 50): 1 → 3 → 4, then back to 1.
  // The app as users get it, built apart from the other browser test's build.
  await build({
    configFile: path.join(ROOT, 'loadgen/vite.config.ts'),
    logLevel: 'error',
    build: { outDir: APP },
  });
  stack = await startTestStack(
    {
      SCALING_POLICY: 'openfaas-ce',
      ALERT_WINDOW_S: '2',
      ALERT_FOR_S: '1',
      ALERT_REPEAT_S: '3',
      SCALER_TICK_MS: '250',
    },
    [],
    { staticDir: APP },
  );
  out = await mkdtemp(path.join(tmpdir(), 'sb-demo-'));
});
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  if (out) await rm(out, { recursive: true, force: true });
});

const demo = (...args: string[]) => runToEnd(['--import', 'tsx', 'scripts/demo.ts', ...args], {});

/** The scale events the gateway recorded since a run started, as "randshow 1→3". */
async function gatewayEvents(startedAt: string): Promise<string[]> {
  const events = (await (await fetch(`${stack.gateway.url}/system/scale-events`)).json()) as ScaleEvent[];
  return events
    .filter((e) => Date.parse(e.at) >= Date.parse(startedAt))
    .map((e) => `${e.function} ${e.from}→${e.to}`)
    .sort();
}

/** The scale events a run's story told, as "randshow 1→3". */
const toldEvents = (results: RunResults) =>
  (results.notes ?? [])
    .filter((n) => n.kind === 'scale')
    .map((n) => `${n.fn} ${/(\d+) → (\d+)/.exec(n.text)?.slice(1).join('→')}`)
    .sort();

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
    expect(toldEvents(results)).toEqual(await gatewayEvents(results.startedAt));
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

  it('plays in the app too: the story under the dial, its scale events marked on the replicas and connections charts', async () => {
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
    await page.goto(`${stack.gateway.url}/`);
    const clickedAt = new Date().toISOString();
    await page.getByRole('button', { name: "Play the talk's demo" }).click();
    await page.getByRole('button', { name: 'Stop' }).waitFor();
    await page.getByRole('button', { name: 'Start' }).waitFor({ timeout: 60_000 });
    // The last scale events are polled every 2 s: wait until the story tells every one the
    // gateway recorded. At least 1→3, 3→4 and 4→1 each; on a starved machine the browser's rate
    // can dip under the threshold for a window, and the alert then resolves and fires once more.
    const scaleNotes = () => page.locator('#story li[data-kind="scale"]').count();
    await expect
      .poll(async () => (await scaleNotes()) === (await gatewayEvents(clickedAt)).length, { timeout: 10_000 })
      .toBe(true);
    const recorded = await gatewayEvents(clickedAt);
    expect(recorded.length).toBeGreaterThanOrEqual(6);
    expect(recorded).toEqual(expect.arrayContaining(['randshow 1→3', 'randstore 1→3']));
    expect(recorded.filter((e) => e.endsWith('→1'))).toHaveLength(
      recorded.filter((e) => / 1→/.test(e)).length,
    );
    const marks = String(recorded.length);
    expect(await page.locator('#story').textContent()).toContain('APIHighInvocationRate fired for randshow');
    await page.screenshot({
      path: path.join(ROOT, 'test-results', 'systembreaker-demo.png'),
      fullPage: true,
    });

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('#export-json').click(),
    ]);
    const file = path.join(out, 'app-demo.json');
    await download.saveAs(file);
    const results = parseRunResults(JSON.parse(await readFile(file, 'utf8')));
    expect(results.plan).toMatchObject({ profile: 'seed-demo', strategy: 'order-by-rand' });
    expect(toldEvents(results)).toEqual(await gatewayEvents(results.startedAt));
    for (const heading of ['Replicas (dashed: ready)', 'MySQL connections and queries running'])
      expect(await page.locator(`sb-chart[heading="${heading}"]`).getAttribute('data-marks')).toBe(marks);

    // Its HTML report tells the story and marks the same events.
    const [html] = await Promise.all([page.waitForEvent('download'), page.locator('#export-html').click()]);
    const reportFile = path.join(out, 'app-demo.html');
    await html.saveAs(reportFile);
    const report = await browser.newPage();
    await report.setContent(await readFile(reportFile, 'utf8'), { waitUntil: 'load' });
    await report.waitForFunction(() => document.body.dataset.charts !== undefined);
    expect(await report.locator('#notes li[data-kind="scale"]').count()).toBe(recorded.length);
    for (const heading of ['Replicas (dashed: ready)', 'MySQL connections and queries running'])
      expect(await report.locator(`figure[data-heading="${heading}"]`).getAttribute('data-marks')).toBe(
        marks,
      );
  });
});
