import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EngineCommand, outcomeCode } from '../../contract/engine.ts';
import { parsePlan } from '../../contract/plan.ts';
import type { RunResults } from '../../contract/results.ts';
import { answerOf } from '../../loadgen/src/core/k6.ts';
import { LoadEngine } from '../../loadgen/src/node/engine.ts';
import { freePort } from '../../mysql/net.ts';
import { type BrowserHarness, openHarness } from '../support/browser/harness.ts';
import { runToEnd } from '../support/process.ts';

/**
 * The same failures through every engine, expecting the same codes: a refused connection,
 * no answer in time, a 503 with a code, a 500 that is not JSON. Each failure is a path
 * prefix of one loopback server (or a port where nothing listens), used as the target.
 */
const TIMEOUT_MS = 400;
const PLAN = parsePlan({
  rate: 10,
  durationS: 1,
  ratio: { randstore: 1, randshow: 1 },
  strategy: 'random-id',
});

let failing: Server;
let failingUrl: string;
let refusedUrl: string;
let harness: BrowserHarness;

function answer(req: IncomingMessage, res: ServerResponse): void {
  // The browser engine calls from another origin: let it read the answers.
  res.setHeader('access-control-allow-origin', '*');
  const mode = req.url?.split('/')[1];
  if (req.url?.endsWith('/healthz')) return void res.writeHead(200).end('OK'); // a gateway is there
  if (mode === 'timeout') return; // never answers
  if (mode === 'empty' && req.url?.endsWith('/function/dbstats'))
    return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"rows":0}');
  if (mode === 'coded-503') {
    res.writeHead(503, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { code: 'NO_REPLICAS', message: 'none ready' } }));
    return;
  }
  if (mode === 'plain-500') return void res.writeHead(500, { 'content-type': 'text/plain' }).end('oops');
  res.writeHead(200).end('{}');
}

beforeAll(async () => {
  failing = createServer(answer);
  await new Promise<void>((r) => failing.listen(0, '127.0.0.1', r));
  failingUrl = `http://127.0.0.1:${(failing.address() as AddressInfo).port}`;
  refusedUrl = `http://127.0.0.1:${await freePort()}`;
  harness = await openHarness('worker-entry.ts');
}, 60_000);

afterAll(async () => {
  await harness?.close();
  failing?.closeAllConnections();
  await new Promise((r) => failing?.close(r));
});

const FAILURES = [
  ['a refused connection', () => refusedUrl, 'NETWORK', { status: 0, error_code: 1212, body: null }],
  [
    'no answer in time',
    () => `${failingUrl}/timeout`,
    'TIMEOUT',
    { status: 0, error_code: 1050, body: null },
  ],
  [
    'a 503 with a code',
    () => `${failingUrl}/coded-503`,
    'NO_REPLICAS',
    { status: 503, error_code: 1503, body: '{"error":{"code":"NO_REPLICAS","message":"none ready"}}' },
  ],
  [
    'a 500 that is not JSON',
    () => `${failingUrl}/plain-500`,
    'HTTP_500',
    { status: 500, error_code: 1500, body: 'oops' },
  ],
] as const;

/** Every error code a run counted, over all functions. */
const codesOf = (results: RunResults) => [...new Set(results.summary.flatMap((s) => Object.keys(s.byCode)))];

describe('one outcome classification in every engine', () => {
  it.each(FAILURES)('%s: the Node engine counts it as the others do', async (_, target, code) => {
    const results = await new LoadEngine({
      target: target(),
      plan: PLAN,
      maxInFlight: 100,
      connections: 8,
      timeoutMs: TIMEOUT_MS,
    }).run();
    expect(codesOf(results)).toEqual([code]);
    // Answered calls come back at once; a timed-out call is counted only if its timeout fires
    // within the wait after the plan's end, which a busy machine can stretch past: some at least.
    const completed = results.summary.reduce((n, s) => n + s.completed, 0);
    expect(completed).toBeGreaterThan(code === 'TIMEOUT' ? 0 : 5);
  });

  it.each(FAILURES)(
    '%s: the browser engine (Web Worker in Chromium) counts it as the others do',
    async (_, target, code) => {
      const command: EngineCommand = {
        type: 'start',
        target: target(),
        plan: PLAN,
        maxInFlight: 100,
        timeoutMs: TIMEOUT_MS,
      };
      const results = await harness.page.evaluate(
        (c) => (globalThis as unknown as { runWorker(c: unknown): Promise<RunResults> }).runWorker(c),
        command,
      );
      expect(results.engine).toBe('browser');
      expect(codesOf(results)).toEqual([code]);
    },
  );

  it.each(FAILURES)('%s: the k6 script counts it as the others do', (_, _target, code, k6Response) => {
    // k6 itself is not on this machine: its responses, as k6 documents them, through the
    // script's own mapping (answerOf) and the shared classification.
    expect(outcomeCode(answerOf(k6Response))).toBe(code);
  });
});

describe('npm run load, as a user runs it', () => {
  const load = (...args: string[]) =>
    runToEnd(['--import', 'tsx', 'loadgen/src/node/cli.ts', '--rate', '10', '--duration', '1s', ...args], {});

  it('refuses a target where no gateway answers, before sending anything: exit 2 and why', async () => {
    const { code, output } = await load('--target', refusedUrl);
    expect(code).toBe(2);
    expect(output.trim()).toBe(
      `no gateway answers at ${refusedUrl} (GET /healthz: ECONNREFUSED); start one with npm start, or set --target`,
    );
  });

  it('fails (exit 1) when more calls fail than --max-error-ratio allows, after printing the table', async () => {
    const { code, output } = await load('--target', `${failingUrl}/coded-503`);
    expect(code).toBe(1);
    expect(output).toContain('NO_REPLICAS:');
    expect(output).toMatch(
      /the run failed its threshold: 100\.0 % of \d+ calls failed, more than --max-error-ratio 0\.01/,
    );
    expect(output).not.toMatch(/at \w+ \(|node:internal/);
  });

  it('passes (exit 0) when the failures stay within the threshold, and counts no errors as 0', async () => {
    const tolerant = await load('--target', `${failingUrl}/coded-503`, '--max-error-ratio', '1');
    expect(tolerant.code).toBe(0);
    const clean = await load('--target', `${failingUrl}/ok`);
    expect(clean.code).toBe(0);
    expect(clean.output).toMatch(/│ errors\s*│/);
    expect(clean.output).not.toContain("''");
    expect(clean.output).not.toContain('the cats table is empty');
  });

  it('says before the run when the cats table is empty, so the 404s that follow are no surprise', async () => {
    const { code, output } = await load('--target', `${failingUrl}/empty`);
    expect(code).toBe(0);
    expect(output).toContain(
      'load: the cats table is empty: randshow answers 404 NO_CATS (counted as failed) until randstore has stored one',
    );
  });
});
