import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FunctionStatus } from '../../contract/openfaas.ts';
import type { LocalStack } from '../../gateway/local-stack.ts';
import { launchChromium } from '../support/browser/harness.ts';
import { startTestStack } from '../support/stack.ts';

/**
 * Web pages of other sites against the local gateway: requests as a browser would send them
 * (simple cross-site POSTs, DNS-rebound Host headers), and a real page on another loopback
 * origin. Nothing they try may change the stack.
 */
let stack: LocalStack;
let gw: string;
let port: number;

beforeAll(async () => {
  stack = await startTestStack({
    GATEWAY_ALLOWED_HOSTS: 'sb.local',
    GATEWAY_ALLOWED_ORIGINS: 'http://sb.local:8080',
  });
  gw = stack.gateway.url;
  port = stack.gateway.port;
}, 120_000);
afterAll(() => stack?.stop());

/** A request with the headers a test chooses, Host included (fetch would not send that one). */
async function send(method: 'GET' | 'POST', path: string, headers: Record<string, string>, body?: string) {
  const res = await request(`${gw}${path}`, { method, headers, body: body ?? null });
  const text = await res.body.text();
  let code: string | undefined;
  try {
    code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
  } catch {}
  return { status: res.statusCode, code };
}

const replicas = () => stack.gateway.sets.get('randshow')?.desired;
const scaleBody = JSON.stringify({ serviceName: 'randshow', replicas: 3 });

describe('the local gateway and cross-site requests', () => {
  it('refuses a cross-site scale, a cross-site load start and a store, and nothing changes', async () => {
    const before = replicas();
    const evil = { origin: 'http://evil.example', 'content-type': 'text/plain' };
    expect(await send('POST', '/system/scale-function/randshow', evil, scaleBody)).toEqual({
      status: 403,
      code: 'ORIGIN_NOT_ALLOWED',
    });
    expect(await send('POST', '/system/loadgen/start', evil, '{"rate":5}')).toEqual({
      status: 403,
      code: 'ORIGIN_NOT_ALLOWED',
    });
    expect(await send('POST', '/function/randstore', { origin: 'http://evil.example' })).toEqual({
      status: 403,
      code: 'ORIGIN_NOT_ALLOWED',
    });
    // A sandboxed page sends Origin: null.
    expect(
      (await send('POST', '/system/scale-function/randshow', { origin: 'null' }, scaleBody)).status,
    ).toBe(403);
    expect(replicas()).toBe(before);
    expect(stack.gateway.liveLoad.running).toBe(false);
  });

  it('refuses a Host it does not serve (DNS rebinding), and answers loopback, IPv6 loopback and allowed names', async () => {
    expect(await send('GET', '/system/functions', { host: `evil.example:${port}` })).toEqual({
      status: 421,
      code: 'HOST_NOT_ALLOWED',
    });
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `sb.local:${port}`])
      expect((await send('GET', '/system/functions', { host })).status, host).toBe(200);
  });

  it('takes only JSON on /system, and the gateway’s own and allowed origins, and no Origin from a tool', async () => {
    expect(
      await send('POST', '/system/scale-function/randshow', { 'content-type': 'text/plain' }, scaleBody),
    ).toEqual({
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
    });
    const json = { 'content-type': 'application/json' };
    expect((await send('POST', '/system/scale-function/randshow', json, scaleBody)).status).toBe(202); // curl, faas-cli
    const own = { ...json, origin: `http://127.0.0.1:${port}` };
    expect((await send('POST', '/system/scale-function/randshow', own, scaleBody)).status).toBe(202); // the app
    const allowed = { ...json, origin: 'http://sb.local:8080', host: 'sb.local:8080' };
    const back = JSON.stringify({ serviceName: 'randshow', replicas: 1 });
    expect((await send('POST', '/system/scale-function/randshow', allowed, back)).status).toBe(202);
    await expect.poll(replicas).toBe(1);
  });

  it('has every replica answer to loopback only', async () => {
    const replica = stack.gateway.sets.get('randshow')?.pick();
    const res = await request(`${replica?.url}/_/health`, { headers: { host: 'evil.example' } });
    expect(res.statusCode).toBe(421);
    await res.body.dump();
  });
});

describe('a page on another origin in Chromium', () => {
  let page: Server;

  it('cannot scale the functions or start load on the gateway', async () => {
    // A page from another loopback port: another origin, as a site in another tab would be.
    page = createServer((_, res) => {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>elsewhere</title>');
    });
    await new Promise<void>((r) => page.listen(0, '127.0.0.1', r));
    const pageUrl = `http://127.0.0.1:${(page.address() as AddressInfo).port}/`;
    const browser = await launchChromium();
    try {
      const tab = await browser.newPage();
      await tab.goto(pageUrl);
      const before = replicas();
      const outcomes = await tab.evaluate(async (target) => {
        const attempt = (path: string, type: string, body: string) =>
          fetch(`${target}${path}`, {
            method: 'POST',
            mode: 'no-cors',
            headers: { 'content-type': type },
            body,
          })
            .then((r) => r.type)
            .catch((e: Error) => e.name);
        return [
          await attempt(
            '/system/scale-function/randshow',
            'text/plain',
            '{"serviceName":"randshow","replicas":3}',
          ),
          await attempt('/system/loadgen/start', 'text/plain', '{"rate":5}'),
          // JSON needs a preflight the gateway never grants: the browser does not send it.
          await fetch(`${target}/system/scale-function/randshow`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: '{"serviceName":"randshow","replicas":3}',
          })
            .then(() => 'sent')
            .catch((e: Error) => e.name),
        ];
      }, gw);
      expect(outcomes[2]).toBe('TypeError');
      await new Promise((r) => setTimeout(r, 500));
      expect(replicas()).toBe(before);
      expect(stack.gateway.liveLoad.running).toBe(false);
      const fns = (await (await fetch(`${gw}/system/functions`)).json()) as FunctionStatus[];
      expect(fns.find((f) => f.name === 'randshow')?.replicas).toBe(before);
    } finally {
      await browser.close();
      await new Promise((r) => page.close(r));
    }
  });
});
