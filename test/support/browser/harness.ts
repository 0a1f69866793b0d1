import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { build } from 'esbuild';
import { type Browser, chromium, type Page } from 'playwright-core';
import { ROOT } from '../process.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Bundles a browser entry of this project the way Vite would, for a test page. */
async function bundle(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [path.join(ROOT, entry)],
    bundle: true,
    write: false,
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    // EngineController's default worker URL is Vite's pattern; the tests pass their own.
    logLevel: 'silent',
  });
  return result.outputFiles[0]?.text ?? '';
}

/** Chromium as it runs here: headless, as root, on a closed network (see ENVIRONMENT's browser notes). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export interface BrowserHarness {
  page: Page;
  origin: string;
  close(): Promise<void>;
}

/**
 * Chromium on a loopback page that has the browser engine's worker at /engine.worker.js and
 * `entry` (a file under test/support/browser) loaded as its script.
 */
export async function openHarness(entry: string): Promise<BrowserHarness> {
  const [worker, script] = await Promise.all([
    bundle('loadgen/src/app/engine.worker.ts'),
    bundle(`test/support/browser/${entry}`),
  ]);
  const server: Server = createServer((req, res) => {
    if (req.url === '/engine.worker.js' || req.url === '/entry.js') {
      res
        .writeHead(200, { 'content-type': 'text/javascript' })
        .end(req.url === '/entry.js' ? script : worker);
      return;
    }
    res
      .writeHead(200, { 'content-type': 'text/html' })
      .end('<!doctype html><script type="module" src="/entry.js"></script>');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const browser = await launchChromium();
  const page = await browser.newPage();
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => 'engine' in globalThis || 'runWorker' in globalThis);
  return {
    page,
    origin,
    async close() {
      await browser.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
