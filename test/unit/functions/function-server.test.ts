import { Agent, get, type IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../functions/lib/log.ts';
import { createMetrics } from '../../../functions/lib/metrics.ts';
import { type FunctionServer, startFunctionServer } from '../../../functions/server/server.ts';

const log = createLogger('silent');
let server: FunctionServer | undefined;
afterEach(async () => {
  await server?.drain();
  server = undefined;
});

async function start(handler: (r: Request) => Promise<Response>, drainTimeoutMs = 5_000) {
  server = await startFunctionServer({
    handler,
    host: '127.0.0.1',
    port: 0,
    maxBodyBytes: 1024,
    drainTimeoutMs,
    metrics: createMetrics('test'),
    log,
  });
  return server;
}

describe('function server', () => {
  it('passes method, path, query, headers and body to the handler as a Request', async () => {
    const s = await start(async (r) =>
      Response.json({ method: r.method, url: r.url, h: r.headers.get('x-test'), body: await r.text() }),
    );
    const res = await fetch(`${s.url}/some/path?x=1`, {
      method: 'POST',
      headers: { 'x-test': 'yes' },
      body: 'hi',
    });
    expect(await res.json()).toEqual({ method: 'POST', url: `${s.url}/some/path?x=1`, h: 'yes', body: 'hi' });
  });

  it('answers 413 BODY_TOO_LARGE for a body over the limit, without calling the handler', async () => {
    let called = false;
    const s = await start(async () => {
      called = true;
      return new Response('ok');
    });
    const res = await fetch(s.url, { method: 'POST', body: 'x'.repeat(2048) });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: { code: 'BODY_TOO_LARGE' } });
    expect(called).toBe(false);
  });

  it('counts a refused body once, as any answer: one 413 and one BODY_TOO_LARGE in its metrics', async () => {
    const s = await start(async () => new Response('ok'));
    expect((await fetch(s.url, { method: 'POST', body: 'x'.repeat(2048) })).status).toBe(413);
    const text = await (await fetch(`${s.url}/_/metrics`)).text();
    expect(text).toMatch(/^systembreaker_requests_total\{code="413",function_name="test"\} 1$/m);
    expect(text).toMatch(
      /^systembreaker_errors_total\{error_code="BODY_TOO_LARGE",function_name="test"\} 1$/m,
    );
  });

  it('turns a handler that throws into a 500 without details', async () => {
    const s = await start(async () => {
      throw new Error('secret detail');
    });
    const res = await fetch(s.url);
    expect(res.status).toBe(500);
    expect(await res.text()).not.toContain('secret detail');
    const again = await fetch(`${s.url}/_/health`);
    expect(again.status).toBe(200);
  });

  it('serves health and Prometheus metrics on reserved paths', async () => {
    const s = await start(async () => new Response('ok'));
    expect(await (await fetch(`${s.url}/_/health`)).json()).toEqual({ status: 'ok', inFlight: 0 });
    const metrics = await fetch(`${s.url}/_/metrics`);
    expect(metrics.headers.get('content-type')).toMatch(/text\/plain/);
    expect(await metrics.text()).toContain('systembreaker_requests_total');
  });

  it('lets in-flight requests finish when draining, and refuses new connections', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const s = await start(async () => {
      await gate;
      return new Response('finished');
    });
    const inFlight = fetch(s.url).then(async (r) => [r.status, await r.text()]);
    await expect.poll(() => s.inFlight()).toBe(1);
    const drained = s.drain();
    await expect(fetch(s.url)).rejects.toThrow();
    release();
    expect(await inFlight).toEqual([200, 'finished']);
    expect(await drained).toEqual({ timedOut: false });
    server = undefined;
  });

  it('makes an answer given while draining its connection’s last, and does not wait on idle keep-alive callers', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const s = await start(async (r) => {
      if (new URL(r.url).pathname === '/slow') await gate;
      return new Response('ok');
    }, 10_000);
    const agent = new Agent({ keepAlive: true });
    const call = (path: string) =>
      new Promise<IncomingMessage>((resolve, reject) =>
        get(`${s.url}${path}`, { agent }, resolve).on('error', reject),
      );
    const before = await call('/fast'); // its socket stays open, idle, in the agent
    before.resume();
    expect(before.headers.connection).toBe('keep-alive');
    const slow = call('/slow');
    await expect.poll(() => s.inFlight()).toBe(1);
    const drained = s.drain();
    release();
    const during = await slow;
    during.resume();
    expect(during.headers.connection).toBe('close');
    expect(await drained).toEqual({ timedOut: false });
    agent.destroy();
    server = undefined;
  });

  it('gives up on requests that outlive the drain timeout', async () => {
    const s = await start(() => new Promise<Response>(() => {}), 200);
    const stuck = fetch(s.url).catch((e: unknown) => e);
    await expect.poll(() => s.inFlight()).toBe(1);
    expect(await s.drain()).toEqual({ timedOut: true });
    expect(await stuck).toBeInstanceOf(Error);
    server = undefined;
  });
});
