import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FunctionStatus } from '../../contract/openfaas.ts';
import type { LocalStack } from '../../gateway/local-stack.ts';
import { readEvents } from '../../loadgen/src/app/sse.ts';
import { alive } from '../support/process.ts';
import { startTestStack } from '../support/stack.ts';

let stack: LocalStack;
let gw: string;
const logs: string[] = [];

beforeAll(async () => {
  stack = await startTestStack({}, logs);
  gw = stack.gateway.url;
});
afterAll(() => stack?.stop());

/** /system/* takes JSON bodies, as faas-cli and the app send them. */
const JSON_BODY = { 'content-type': 'application/json' };
const functions = async () => (await (await fetch(`${gw}/system/functions`)).json()) as FunctionStatus[];
const status = async (name: string) => (await functions()).find((f) => f.name === name) as FunctionStatus;
const scale = (name: string, replicas: number) =>
  fetch(`${gw}/system/scale-function/${name}`, {
    method: 'POST',
    headers: JSON_BODY,
    body: JSON.stringify({ serviceName: name, replicas }),
  });
const livePids = (name: string) =>
  (stack.gateway.sets.get(name)?.live ?? []).map((r) => r.pid).filter((p) => p !== undefined && alive(p));

describe('local gateway', () => {
  it('stores and shows cats through /function/randstore and /function/randshow', async () => {
    const stored = await fetch(`${gw}/function/randstore`, { method: 'POST' });
    expect(stored.status).toBe(200);
    const { id } = (await stored.json()) as { id: number };
    const shown = await fetch(`${gw}/function/randshow?format=json&strategy=random-id`);
    expect(shown.status).toBe(200);
    expect(((await shown.json()) as { id: number }).id).toBe(id);
    const page = await fetch(`${gw}/function/randshow/`);
    expect(await page.text()).toContain('<img src="data:image/');
  });

  it('reports replicas and invocation counts at /system/functions', async () => {
    const first = await status('randshow');
    const before = first.invocationCount;
    await Promise.all(
      [1, 2, 3].map(() => fetch(`${gw}/function/randshow?format=json`).then((r) => r.arrayBuffer())),
    );
    const after = await status('randshow');
    expect(after).toMatchObject({
      replicas: 1,
      availableReplicas: 1,
      labels: { 'com.openfaas.scale.max': '4' },
    });
    expect(after.invocationCount).toBe(before + 3);
    // OpenFaaS's usage: the replica's memory at once; its CPU from the second reading on, more
    // than nothing after 40 calls (the kernel counts CPU in 10 ms ticks).
    expect(first).toHaveProperty('usage.totalMemoryBytes');
    expect(after.usage?.totalMemoryBytes).toBeGreaterThan(20 * 1024 * 1024);
    await new Promise((r) => setTimeout(r, 600));
    for (let i = 0; i < 40; i++) await (await fetch(`${gw}/function/randshow?format=json`)).arrayBuffer();
    expect((await status('randshow')).usage?.cpu).toBeGreaterThan(0);
    // The environment the replicas run with here, not stack.yml's cluster values.
    expect(after.envVars).toMatchObject({
      MYSQL_HOST: stack.mysql.host,
      MYSQL_PORT: String(stack.mysql.port),
      CAT_SOURCE_URL: `${stack.catSource.url}/cat`,
    });
    expect(after.envVars).not.toHaveProperty('PATH');
    expect(JSON.stringify(after)).not.toContain(new URL(stack.mysql.url).password);
  });

  it('exports OpenFaaS gateway metrics and each replica’s metrics with a replica label', async () => {
    await fetch(`${gw}/function/dbstats`).then((r) => r.arrayBuffer());
    const text = await (await fetch(`${gw}/metrics`)).text();
    expect(text).toMatch(/^gateway_function_invocation_total\{function_name="dbstats",code="200"\} \d+/m);
    expect(text).toMatch(/^gateway_functions_seconds_count\{function_name="dbstats",code="200"\} \d+/m);
    expect(text).toMatch(/^gateway_function_invocation_started\{function_name="dbstats"\} \d+/m);
    expect(text).toMatch(/^gateway_service_count\{function_name="randshow"\} 1/m);
    expect(text).toMatch(
      /^systembreaker_requests_total\{replica="dbstats-\d+",code="200",function_name="dbstats"\} \d+/m,
    );
    // dbstats reads the MySQL server's counters at scrape time.
    expect(text).toMatch(
      /^systembreaker_mysql_threads_connected\{replica="dbstats-\d+",function_name="dbstats"\} [1-9]\d*/m,
    );
    expect(text).toMatch(
      /^systembreaker_mysql_max_connections\{replica="dbstats-\d+",function_name="dbstats"\} \d+/m,
    );
  });

  it('exports each function’s CPU seconds per second, all its replicas together, since the previous scrape', async () => {
    const cpu = async () => {
      const text = await (await fetch(`${gw}/metrics`)).text();
      return Number(
        /^gateway_function_cpu_seconds_per_second\{function_name="randshow"\} (\S+)$/m.exec(text)?.[1],
      );
    };
    await cpu(); // the first scrape starts the meter
    await new Promise((r) => setTimeout(r, 600));
    for (let i = 0; i < 40; i++) await (await fetch(`${gw}/function/randshow?format=json`)).arrayBuffer();
    const busy = await cpu();
    expect(busy).toBeGreaterThan(0);
    expect(busy).toBeLessThan(4); // at most every core of the machine
  });

  it('answers an unknown function with 404 and a bad scale request with 400', async () => {
    const missing = await fetch(`${gw}/function/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'FUNCTION_NOT_FOUND' } });
    expect((await scale('randshow', -1)).status).toBe(400);
    // Above the function's max: refused, naming the max, and nothing changes.
    const above = await scale('randshow', 100);
    expect(above.status).toBe(400);
    expect(await above.json()).toEqual({
      error: {
        code: 'BAD_REQUEST',
        message: 'randshow runs at most 4 replicas (com.openfaas.scale.max, MAX_REPLICAS); asked for 100',
      },
    });
    expect((await status('randshow')).replicas).toBe(1);
    expect(
      (await fetch(`${gw}/system/scale-function/randshow`, { method: 'POST', headers: JSON_BODY, body: '{' }))
        .status,
    ).toBe(400);
  });

  it('scales by hand to 4 live processes, and the database sees more connections', async () => {
    // randshow's own connections, as a DBA sees them: the server-wide count moves with the
    // other functions' pools too (their idle connections close on their own).
    const threads = async () => {
      const conn = await mysql.createConnection({ uri: stack.mysql.url });
      const [[row]] = await conn.query<mysql.RowDataPacket[]>(
        "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER = 'randshow'",
      );
      await conn.end();
      return Number(row?.n);
    };
    // Each replica opens its pool's connections when it first serves a request.
    await Promise.all(
      [1, 2].map(() => fetch(`${gw}/function/randshow?format=json`).then((r) => r.arrayBuffer())),
    );
    const before = await threads();
    const scaled = await scale('randshow', 4);
    expect(scaled.status).toBe(202);
    // What was applied, and what the scaling policy will do to it.
    expect(await scaled.json()).toEqual({
      function: 'randshow',
      asked: 4,
      replicas: 4,
      policy: 'off',
      note: 'the scaling policy is off: it stays until scaled again',
    });
    await expect.poll(() => status('randshow').then((s) => s.availableReplicas), { timeout: 20_000 }).toBe(4);
    expect(livePids('randshow')).toHaveLength(4);
    await Promise.all(
      Array.from({ length: 12 }, () =>
        fetch(`${gw}/function/randshow?format=json`).then((r) => r.arrayBuffer()),
      ),
    );
    expect(before).toBeLessThanOrEqual(2); // one replica, a pool of 2
    expect(await threads()).toBeGreaterThanOrEqual(4); // each of the 4 opened its own

    expect((await scale('randshow', 1)).status).toBe(202);
    await expect.poll(() => livePids('randshow').length, { timeout: 20_000 }).toBe(1);
    await expect.poll(() => status('randshow').then((s) => s.availableReplicas)).toBe(1);
  });

  it('replaces a replica process that is killed', async () => {
    const [victim] = stack.gateway.sets.get('randstore')?.live ?? [];
    expect(victim?.pid).toBeDefined();
    victim?.kill('SIGKILL');
    await expect
      .poll(() => livePids('randstore').includes(victim?.pid as number), { timeout: 20_000 })
      .toBe(false);
    await expect
      .poll(() => status('randstore').then((s) => s.availableReplicas), { timeout: 20_000 })
      .toBe(1);
    const res = await fetch(`${gw}/function/randstore`, { method: 'POST' });
    expect(res.status).toBe(200);
  });

  it('gives in-flight requests of a killed replica a 502 with a code', async () => {
    const res = fetch(`${gw}/function/randstore`, { method: 'POST' });
    stack.catSource.setFault('slow');
    // Wait until the request is inside the replica, then kill it.
    const set = stack.gateway.sets.get('randstore');
    const pending = fetch(`${gw}/function/randstore`, { method: 'POST' });
    await expect.poll(() => set?.live.some((r) => r.inFlight > 0)).toBe(true);
    set?.live.find((r) => r.inFlight > 0)?.kill('SIGKILL');
    const answer = await pending;
    stack.catSource.setFault('none');
    await (await res).arrayBuffer();
    expect(answer.status).toBe(502);
    expect(await answer.json()).toMatchObject({ error: { code: 'REPLICA_FAILED' } });
    await expect
      .poll(() => status('randstore').then((s) => s.availableReplicas), { timeout: 20_000 })
      .toBe(1);
  });

  it('runs the server engine live: per-second stats stream, a rate change applies within a second', async () => {
    const events: Array<{
      type: string;
      stats?: Array<{ t: number; fn: string; sent: number }>;
      running?: boolean;
    }> = [];
    const controller = new AbortController();
    const stream = fetch(`${gw}/system/loadgen/events`, { signal: controller.signal }).then((res) =>
      readEvents<(typeof events)[number]>(res.body as ReadableStream<Uint8Array>, (event) =>
        events.push(event),
      ),
    );
    const started = await fetch(`${gw}/system/loadgen/start`, {
      method: 'POST',
      headers: JSON_BODY,
      body: JSON.stringify({
        rate: 8,
        ratio: { randstore: 1, randshow: 3 },
        strategy: 'random-id',
        durationS: 0,
      }),
    });
    expect(started.status).toBe(202);
    const busy = await fetch(`${gw}/system/loadgen/start`, {
      method: 'POST',
      headers: JSON_BODY,
      body: '{}',
    });
    expect(busy.status).toBe(409);
    const seconds = () => events.flatMap((e) => (e.type === 'second' ? (e.stats ?? []) : []));
    await expect.poll(() => seconds().length, { timeout: 10_000 }).toBeGreaterThanOrEqual(4);
    const changedAt = Math.max(...seconds().map((s) => s.t));
    expect(
      (
        await fetch(`${gw}/system/loadgen`, {
          method: 'PATCH',
          headers: JSON_BODY,
          body: JSON.stringify({ rate: 24 }),
        })
      ).status,
    ).toBe(200);
    const sentIn = (t: number) =>
      seconds()
        .filter((s) => s.t === t)
        .reduce((n, s) => n + s.sent, 0);
    await expect.poll(() => sentIn(changedAt + 2), { timeout: 10_000 }).toBeGreaterThan(0);
    expect(sentIn(changedAt + 2)).toBe(24);
    expect(
      (
        await fetch(`${gw}/system/loadgen`, {
          method: 'PATCH',
          headers: JSON_BODY,
          body: JSON.stringify({ rate: -3 }),
        })
      ).status,
    ).toBe(400);
    expect((await fetch(`${gw}/system/loadgen/stop`, { method: 'POST' })).status).toBe(202);
    await expect.poll(() => events.some((e) => e.type === 'done'), { timeout: 35_000 }).toBe(true);
    controller.abort();
    await stream.catch(() => {});
  });

  it('never writes the database password into the replica logs', async () => {
    const { readFile } = await import('node:fs/promises');
    const password = await readFile(`${stack.secretsDir}/randstore-mysql-password`, 'utf8');
    expect(logs.length).toBeGreaterThan(0);
    expect(logs.join('\n')).not.toContain(password.trim());
  });
});
