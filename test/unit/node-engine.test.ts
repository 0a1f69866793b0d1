import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../contract/engine.ts';
import { parsePlan } from '../../contract/plan.ts';
import type { SecondStats } from '../../contract/results.ts';
import { LoadEngine } from '../../loadgen/src/node/engine.ts';

interface TestServer {
  url: string;
  hits: Record<string, number>;
}

let servers: Server[] = [];
afterEach(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  servers = [];
});

/** A no-op gateway stand-in on loopback that counts calls per function. */
async function testServer(delay: () => number = () => 0): Promise<TestServer> {
  const hits: Record<string, number> = {};
  const server = createServer((req, res) => {
    const fn = /^\/function\/(\w+)/.exec(req.url ?? '')?.[1] ?? 'other';
    hits[fn] = (hits[fn] ?? 0) + 1;
    const answer = () => res.writeHead(200).end('{}');
    const d = delay();
    if (d > 0) setTimeout(answer, d);
    else answer();
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits };
}

function engine(
  url: string,
  plan: Parameters<typeof parsePlan>[0],
  extra: { maxInFlight?: number } = {},
  onSecond?: (s: SecondStats[]) => void,
) {
  return new LoadEngine({
    target: url,
    plan: parsePlan(plan),
    maxInFlight: extra.maxInFlight ?? 1000,
    connections: 64,
    timeoutMs: 5000,
    ...(onSecond ? { onEvent: (e: EngineEvent) => e.type === 'second' && onSecond(e.stats) } : {}),
  });
}

describe('Node load engine', () => {
  it('holds 500 requests/s for 5 s within 2 % with the ratio exact', async () => {
    const srv = await testServer();
    const results = await engine(srv.url, {
      rate: 500,
      durationS: 5,
      ratio: { randstore: 1, randshow: 3 },
    }).run();
    const completed = results.summary.reduce((s, f) => s + f.completed, 0);
    expect(Math.abs(completed / 5 - 500) / 500).toBeLessThan(0.02);
    expect(srv.hits).toEqual({ randstore: 625, randshow: 1875 });
    expect(results.summary.every((f) => f.dropped === 0 && f.byClass['2xx'] === f.completed)).toBe(true);
  });

  it('shows a server stall in p99, measured from the intended send time (no coordinated omission)', async () => {
    const start = Date.now();
    // From 2 s to 3 s into the run, every answer takes 200 ms more.
    const srv = await testServer(() => {
      const t = Date.now() - start;
      return t >= 2000 && t < 3000 ? 200 : 0;
    });
    const results = await engine(srv.url, {
      rate: 500,
      durationS: 5,
      ratio: { randstore: 0, randshow: 1 },
    }).run();
    const [show] = results.summary.filter((s) => s.fn === 'randshow');
    expect(show?.p50).toBeLessThan(50);
    expect(show?.p99).toBeGreaterThanOrEqual(195);
    const stalled = results.seconds.filter((s) => s.fn === 'randshow' && s.p50 >= 195);
    expect(stalled.length).toBeGreaterThanOrEqual(1);
  });

  it('turns overload into counted drops at the in-flight cap, not a growing queue', async () => {
    let peak = 0;
    const srv = await testServer(() => 10_000); // answers nothing within the run
    const e = engine(
      srv.url,
      { rate: 500, durationS: 2, ratio: { randstore: 0, randshow: 1 } },
      { maxInFlight: 50 },
      () => {
        peak = Math.max(peak, e.inFlightCount);
      },
    );
    const sampler = setInterval(() => {
      peak = Math.max(peak, e.inFlightCount);
    }, 5);
    const results = await e.run();
    clearInterval(sampler);
    const show = results.summary.find((f) => f.fn === 'randshow');
    expect(peak).toBeLessThanOrEqual(50);
    expect(show?.sent).toBe(50);
    expect(show?.dropped).toBe(950);
    expect((show?.sent ?? 0) + (show?.dropped ?? 0)).toBe(1000);
  });

  it('applies a live rate change within one second', async () => {
    const srv = await testServer();
    const seconds: SecondStats[] = [];
    const e = engine(srv.url, { rate: 100, durationS: 5, ratio: { randstore: 0, randshow: 1 } }, {}, (s) =>
      seconds.push(...s),
    );
    const run = e.run();
    await new Promise((r) => setTimeout(r, 2000));
    e.update({ rate: 400 });
    const results = await run;
    const sentIn = (t: number) => results.seconds.find((s) => s.t === t && s.fn === 'randshow')?.sent ?? 0;
    expect(sentIn(1)).toBeGreaterThanOrEqual(99);
    expect(sentIn(1)).toBeLessThanOrEqual(101);
    // The change landed near t = 2 s: the next whole second runs at the new rate.
    expect(sentIn(3)).toBeGreaterThanOrEqual(392);
    expect(sentIn(3)).toBeLessThanOrEqual(408);
    expect(seconds.length).toBeGreaterThan(0);
  });
});
