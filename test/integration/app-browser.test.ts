import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRunResults } from '../../contract/results.ts';
import { createLogger } from '../../functions/lib/log.ts';
import { parseGatewayConfig } from '../../gateway/config.ts';
import { type LocalStack, startLocalStack } from '../../gateway/local-stack.ts';
import { launchChromium } from '../support/browser/harness.ts';
import { ROOT, runToEnd } from '../support/process.ts';

const ARTIFACTS = path.join(ROOT, 'test-results');
const APP = path.join(ROOT, 'test-results', 'app-dist');

let stack: LocalStack;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  // The app as users get it: built by Vite, served by the local gateway.
  await build({
    configFile: path.join(ROOT, 'loadgen/vite.config.ts'),
    logLevel: 'error',
    build: { outDir: APP },
  });
  const { MYSQL_URL: _, ...env } = process.env;
  stack = await startLocalStack({
    config: parseGatewayConfig({
      GATEWAY_PORT: '0',
      CAT_SOURCE_PORT: '0',
      STACK_FILE: `${ROOT}test/fixtures/stack-small.yml`,
      SCALING_POLICY: 'off',
    }),
    persistent: false,
    env,
    log: createLogger('silent'),
    staticDir: APP,
    // As OpenFaaS is deployed: /system/* asks for basic auth, /function/* does not.
    basicAuth: CREDENTIALS,
  });
  // Some cats to show before the load starts storing more.
  for (let i = 0; i < 3; i++) await fetch(`${stack.gateway.url}/function/randstore`, { method: 'POST' });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

const CREDENTIALS = { user: 'admin', password: 'app-test-pw' };

/** Opens the app and gives it the gateway's credentials, as a user does once per visit. */
async function openApp(): Promise<void> {
  await page.goto(`${stack.gateway.url}/`);
  await page.getByLabel('User (for /system/*)').fill(CREDENTIALS.user);
  await page.getByLabel('Password').fill(CREDENTIALS.password);
  await page.getByLabel('Password').press('Tab');
  await page.locator('#auth-needed').waitFor({ state: 'detached' });
}

/**
 * Opens a report in a page of its own with every request refused and counted: what it drew,
 * its per-function table and its plan.
 */
async function openOffline(html: string, screenshot: string) {
  const context = await browser.newContext({ offline: true, viewport: { width: 1280, height: 1600 } });
  const report = await context.newPage();
  const requests: string[] = [];
  const errors: string[] = [];
  report.on('request', (r) => {
    if (!r.url().startsWith('data:')) requests.push(r.url());
  });
  report.on('pageerror', (e) => errors.push(e.message));
  await context.route('**/*', (route) => route.abort());
  await report.setContent(html, { waitUntil: 'load' });
  await report.waitForFunction(() => document.body.dataset.charts !== undefined, undefined, {
    timeout: 10_000,
  });
  const seen = await report.evaluate(() => {
    const points: Record<string, number> = {};
    const inked: Record<string, number> = {};
    for (const figure of document.querySelectorAll<HTMLElement>('figure[data-heading]')) {
      const heading = figure.dataset.heading as string;
      points[heading] = Number(figure.dataset.points);
      let count = 0;
      for (const canvas of figure.querySelectorAll('canvas')) {
        const { data } = (canvas.getContext('2d') as CanvasRenderingContext2D).getImageData(
          0,
          0,
          canvas.width,
          canvas.height,
        );
        for (let i = 3; i < data.length; i += 4) if ((data[i] as number) > 0) count++;
      }
      inked[heading] = count;
    }
    const rows: Record<string, Record<string, string>> = {};
    for (const tr of document.querySelectorAll<HTMLElement>('#summary tbody tr')) {
      const cells: Record<string, string> = {};
      for (const td of tr.querySelectorAll('td[class]')) cells[td.className] = td.textContent ?? '';
      rows[tr.dataset.fn as string] = cells;
    }
    const plan: Record<string, string> = {};
    for (const td of document.querySelectorAll<HTMLElement>('#plan td'))
      plan[td.dataset.field as string] = td.textContent ?? '';
    return { charts: Number(document.body.dataset.charts), points, inked, rows, plan };
  });
  await report.screenshot({ path: screenshot, fullPage: true });
  await context.close();
  return { ...seen, requests, errors };
}

const sent = (fn: string) =>
  page.locator(`sb-summary tr[data-fn="${fn}"] td.sent`).textContent().then(Number);

describe('SystemBreaker app in Chromium', () => {
  it('asks for the gateway’s user and password when /system/* wants them, and says when they are wrong', async () => {
    await page.goto(`${stack.gateway.url}/`);
    const alert = page.locator('#auth-needed');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('The gateway asks for its user and password for /system/*');
    await page.getByLabel('User (for /system/*)').fill('admin');
    await page.getByLabel('Password').fill('wrong');
    await page.getByLabel('Password').press('Tab');
    await page.getByText('The gateway refused this user and password').waitFor();
    await page.getByLabel('Password').fill(CREDENTIALS.password);
    await page.getByLabel('Password').press('Tab');
    await alert.waitFor({ state: 'detached' });
    await page.getByText('replicas: 3 functions').waitFor();
  });

  it('dials 20 requests/s at 1:3 for 5 s and shows the load, a cat, replicas and the database', async () => {
    await openApp();
    await page.getByLabel('Rate (requests/s)').fill('20');
    await page.getByLabel('Rate (requests/s)').press('Tab');
    await page.getByLabel('randstore weight').fill('1');
    await page.getByLabel('randstore weight').press('Tab');
    await page.getByLabel('randshow weight').fill('3');
    await page.getByLabel('randshow weight').press('Tab');
    await page.getByLabel('Duration (s, 0 = until stopped)').fill('5');
    await page.getByLabel('Duration (s, 0 = until stopped)').press('Tab');
    await page.getByRole('button', { name: 'Start' }).click();
    await page.getByRole('button', { name: 'Stop' }).waitFor();
    await mkdir(ARTIFACTS, { recursive: true });
    await page.waitForTimeout(4000);
    await page.screenshot({ path: path.join(ARTIFACTS, 'systembreaker-under-load.png'), fullPage: true });
    await page.getByRole('button', { name: 'Start' }).waitFor({ timeout: 20_000 }); // back once the run ended

    const store = await sent('randstore');
    const show = await sent('randshow');
    expect(store + show).toBe(100);
    // The ratio holds to ±1 per 4 requests.
    expect(Math.abs(show - 3 * store)).toBeLessThanOrEqual(4);

    const points = async (heading: string) =>
      Number(await page.locator(`sb-chart[heading="${heading}"]`).getAttribute('data-points'));
    await page.waitForFunction(
      () => document.querySelector('sb-app')?.shadowRoot?.querySelector('sb-chart') !== null,
    );
    expect(await points('Requests/s: dialled (dashed) and achieved')).toBeGreaterThan(0);
    expect(await points('Latency from intended send (p50, p95, p99)')).toBeGreaterThan(0);
    expect(await points('Replicas (dashed: ready)')).toBeGreaterThan(0);
    expect(await points('CPU per function (millicores, all replicas)')).toBeGreaterThan(0);
    expect(await points('MySQL connections and queries running')).toBeGreaterThan(0);
    expect(await points('Rows and MiB stored')).toBeGreaterThan(0);
    expect(await page.locator('sb-cat img#cat').getAttribute('src')).toMatch(
      /^data:image\/(png|jpeg|webp);base64,/,
    );

    await page.screenshot({ path: path.join(ARTIFACTS, 'systembreaker-app.png'), fullPage: true });
  });

  it('exports the run as one HTML file that, opened with the network off, draws every chart and agrees with the JSON', async () => {
    // The run of the test before: its JSON and its report, as a user downloads them.
    const dir = await mkdtemp(path.join(tmpdir(), 'sb-report-'));
    const save = async (button: string) => {
      const [download] = await Promise.all([page.waitForEvent('download'), page.locator(button).click()]);
      const file = path.join(dir, download.suggestedFilename());
      await download.saveAs(file);
      return file;
    };
    const jsonFile = await save('#export-json');
    const results = parseRunResults(JSON.parse(await readFile(jsonFile, 'utf8')));
    const fromApp = await readFile(await save('#export-html'), 'utf8');
    // The same JSON through the command line.
    const cliFile = path.join(dir, 'cli-report.html');
    const cli = await runToEnd(['--import', 'tsx', 'scripts/report.ts', jsonFile, '--out', cliFile], {});
    expect(cli.code, cli.output).toBe(0);
    const fromCli = await readFile(cliFile, 'utf8');

    expect(results.system?.some((s) => s.functions?.randshow && s.functions.randshow.replicas >= 1)).toBe(
      true,
    );
    expect(results.system?.some((s) => s.db && s.db.maxConnections > 0)).toBe(true);
    for (const [html, name] of [
      [fromApp, 'app'],
      [fromCli, 'cli'],
    ] as const) {
      const seen = await openOffline(html, path.join(ARTIFACTS, `systembreaker-report-${name}.png`));
      expect(seen.requests, `${name}: requests the report made`).toEqual([]);
      expect(seen.errors, `${name}: page errors`).toEqual([]);
      expect(seen.charts).toBe(7);
      for (const heading of [
        'Requests/s: dialled (dashed) and achieved',
        'Latency from intended send (p50, p95, p99)',
        'Errors/s by code',
        'Replicas (dashed: ready)',
        'CPU per function (millicores, all replicas)',
        'MySQL connections and queries running',
        'Rows and MiB stored',
      ]) {
        expect(seen.points[heading], `${name}: ${heading}`).toBeGreaterThan(0);
        expect(seen.inked[heading], `${name}: pixels drawn in ${heading}`).toBeGreaterThan(50);
      }
      for (const s of results.summary) {
        const row = seen.rows[s.fn];
        expect(row, `${name}: row of ${s.fn}`).toBeDefined();
        expect(row?.sent).toBe(String(s.sent));
        expect(row?.completed).toBe(String(s.completed));
        expect(row?.rate).toBe(s.rate.toFixed(2));
        expect(row?.p95).toBe(s.p95.toFixed(1));
        expect(row?.p99).toBe(s.p99.toFixed(1));
        expect(row?.c2xx).toBe(String(s.byClass['2xx']));
      }
      expect(seen.plan.rate).toBe('20 requests/s');
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('npm run load records the replicas and the database beside the load, and writes the same report', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sb-load-'));
    const passwordFile = path.join(dir, 'password');
    await writeFile(passwordFile, `${CREDENTIALS.password}\n`);
    const load = (...args: string[]) =>
      runToEnd(
        [
          '--import',
          'tsx',
          'loadgen/src/node/cli.ts',
          '--target',
          stack.gateway.url,
          '--rate',
          '8',
          '--duration',
          '3s',
          '--strategy',
          'random-id',
          ...args,
        ],
        {},
      );
    const withAuth = await load(
      '--auth-user',
      CREDENTIALS.user,
      '--auth-password-file',
      passwordFile,
      '--out',
      path.join(dir, 'r.json'),
      '--report',
      path.join(dir, 'r.html'),
    );
    expect(withAuth.code, withAuth.output).toBe(0);
    const results = parseRunResults(JSON.parse(await readFile(path.join(dir, 'r.json'), 'utf8')));
    const replicas = results.system?.filter((s) => s.functions) ?? [];
    expect(replicas.length).toBeGreaterThanOrEqual(2);
    expect(
      replicas.every((s) => s.functions?.randstore?.replicas === 1 && s.functions.randshow?.ready === 1),
    ).toBe(true);
    expect(results.system?.some((s) => s.db && s.db.rows > 0)).toBe(true);
    const seen = await openOffline(
      await readFile(path.join(dir, 'r.html'), 'utf8'),
      path.join(ARTIFACTS, 'systembreaker-report-load.png'),
    );
    expect(seen.requests).toEqual([]);
    expect(seen.points['Replicas (dashed: ready)']).toBeGreaterThan(0);
    expect(seen.rows.randshow?.sent).toBe(String(results.summary.find((f) => f.fn === 'randshow')?.sent));

    // Without the gateway's credentials the load still runs and says what it could not record.
    const without = await load('--out', path.join(dir, 'r2.json'));
    expect(without.code, without.output).toBe(0);
    expect(without.output).toContain(
      'load: not recorded while it fails: /system/functions: HTTP 401 (give --auth-user and --auth-password-file)',
    );
    const partial = parseRunResults(JSON.parse(await readFile(path.join(dir, 'r2.json'), 'utf8')));
    expect(partial.system?.some((s) => s.functions)).toBe(false);
    expect(partial.system?.some((s) => s.db)).toBe(true);
    await rm(dir, { recursive: true, force: true });
  });

  it('fits a narrow window and can be driven from the keyboard', async () => {
    await page.setViewportSize({ width: 400, height: 900 });
    await openApp();
    await page.getByLabel('Rate (requests/s)').waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    // Every control has an accessible name.
    for (const label of [
      'Gateway URL',
      'Rate (requests/s)',
      'Rate dial',
      'randstore weight',
      'randshow weight',
      'randshow strategy',
      'Profile',
      'Engine',
    ]) {
      expect(await page.getByLabel(label).count()).toBe(1);
    }
    // Tab to the Start button from the duration field and press Enter.
    await page.getByLabel('Duration (s, 0 = until stopped)').fill('1');
    await page.getByLabel('Duration (s, 0 = until stopped)').press('Tab');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Stop' }).waitFor({ timeout: 5000 });
    await page.getByRole('button', { name: 'Start' }).waitFor({ timeout: 20_000 });
    await page.screenshot({ path: path.join(ARTIFACTS, 'systembreaker-narrow.png'), fullPage: true });
  });

  it('will not start or export a plan that sends nothing, and says why', async () => {
    await page.setViewportSize({ width: 1280, height: 1400 });
    await openApp();
    for (const weight of ['randstore weight', 'randshow weight']) {
      await page.getByLabel(weight).fill('0');
      await page.getByLabel(weight).press('Tab');
    }
    await expect
      .poll(() => page.locator('#plan-problem').textContent())
      .toBe('ratio must give some weight to randstore or randshow: all weights are 0');
    expect(await page.getByRole('button', { name: 'Start' }).isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: 'Export as k6 script' }).isDisabled()).toBe(true);
    await page.getByLabel('randshow weight').fill('3');
    await page.getByLabel('randshow weight').press('Tab');
    await expect.poll(() => page.locator('#plan-problem').count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Start' }).isDisabled()).toBe(false);
  });
});
