import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../functions/lib/log.ts';
import { parseGatewayConfig } from '../../gateway/config.ts';
import { type LocalStack, startLocalStack } from '../../gateway/local-stack.ts';
import { launchChromium } from '../support/browser/harness.ts';
import { ROOT } from '../support/process.ts';

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
