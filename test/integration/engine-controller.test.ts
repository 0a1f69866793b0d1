import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../contract/engine.ts';
import { type Plan, parsePlan } from '../../contract/plan.ts';
import { type BrowserHarness, openHarness } from '../support/browser/harness.ts';

/**
 * The app's EngineController in Chromium: the browser engine run to its end, and the
 * server engine's stream lost and found again. The "gateway" is a stand-in on loopback that
 * answers the live-load routes and drops its event stream when told to.
 */
const PLAN = parsePlan({
  rate: 20,
  durationS: 1,
  ratio: { randstore: 1, randshow: 1 },
  strategy: 'random-id',
});

let gateway: Server;
let gatewayUrl: string;
let harness: BrowserHarness;
/** What the stand-in's next event stream does: drop after the running state, or say the run ended. */
let nextStream: 'drop' | 'ended' = 'drop';
let startAnswer = 202;

const sse = (res: ServerResponse, event: EngineEvent) => res.write(`data: ${JSON.stringify(event)}\n\n`);

function standIn(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('access-control-allow-origin', '*');
  res.setHeader('access-control-allow-headers', 'content-type, authorization');
  res.setHeader('access-control-allow-methods', 'GET, POST, PATCH');
  if (req.method === 'OPTIONS') return void res.writeHead(204).end();
  if (req.url === '/system/loadgen/start') {
    req.resume();
    if (startAnswer !== 202) {
      res.writeHead(startAnswer, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'LOAD_RUNNING', message: 'a load run is already going' } }));
      return;
    }
    return void res.writeHead(202, { 'content-type': 'application/json' }).end('{}');
  }
  if (req.url === '/system/loadgen/events') {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    if (nextStream === 'ended') {
      sse(res, { type: 'state', running: false, plan: PLAN });
      return;
    }
    sse(res, { type: 'state', running: false, plan: null });
    setTimeout(() => {
      sse(res, { type: 'state', running: true, plan: PLAN });
      // The gateway goes away mid-run (a restart, a proxy timeout): the stream is cut.
      setTimeout(() => res.destroy(), 200);
    }, 300);
    return;
  }
  res.writeHead(200).end('{}'); // /function/… for the browser engine
}

type State = { status: string; error: string | null; sent: number };
const state = () =>
  harness.page.evaluate(() => (globalThis as unknown as { engine: { state(): State } }).engine.state());
const call = (fn: 'stop' | 'reconnect') =>
  harness.page.evaluate(
    (f) => (globalThis as unknown as { engine: Record<string, () => void> }).engine[f]?.(),
    fn,
  );
const start = (kind: 'browser' | 'server', plan: Plan) =>
  harness.page.evaluate(
    ([k, target, p]) =>
      (
        globalThis as unknown as { engine: { start(k: string, t: string, p: unknown): Promise<void> } }
      ).engine.start(k, target, p),
    [kind, gatewayUrl, plan] as const,
  );

beforeAll(async () => {
  gateway = createServer(standIn);
  await new Promise<void>((r) => gateway.listen(0, '127.0.0.1', r));
  gatewayUrl = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
  harness = await openHarness('controller-entry.ts');
}, 60_000);

afterAll(async () => {
  await harness?.close();
  gateway?.closeAllConnections();
  await new Promise((r) => gateway?.close(r));
});

describe('the app’s engine controller', () => {
  it('runs the browser engine to the end of its plan and is idle again, with what it sent', async () => {
    await start('browser', PLAN);
    expect((await state()).status).toBe('running');
    await expect.poll(async () => (await state()).status, { timeout: 10_000 }).toBe('idle');
    const s = await state();
    expect(s.error).toBeNull();
    expect(s.sent).toBeGreaterThanOrEqual(18);
  });

  it('says "engine lost" when the server engine’s stream drops, and reconnecting finds the run’s end', async () => {
    nextStream = 'drop';
    await start('server', parsePlan({ ...PLAN, durationS: 0 }));
    await expect.poll(async () => (await state()).status, { timeout: 5_000 }).toBe('lost');
    expect((await state()).error).toMatch(/^engine lost: /);
    nextStream = 'ended';
    await call('reconnect');
    await expect.poll(async () => (await state()).status, { timeout: 5_000 }).toBe('idle');
    expect((await state()).error).toBeNull();
  });

  it('shows the gateway’s refusal of a start and stays idle', async () => {
    startAnswer = 409;
    try {
      await start('server', PLAN);
      await expect.poll(async () => (await state()).status, { timeout: 5_000 }).toBe('idle');
      expect((await state()).error).toContain('409');
      expect((await state()).error).toContain('LOAD_RUNNING');
    } finally {
      startAnswer = 202;
    }
  });
});
