import { readFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FunctionStatus, GatewayInfo, LogMessage } from '../../contract/openfaas.ts';
import type { LocalStack } from '../../gateway/local-stack.ts';
import { alive, ROOT } from '../support/process.ts';
import { startTestStack } from '../support/stack.ts';

/**
 * Each request as faas-cli 0.16 sends it, from its source: proxy/client.go newRequest
 * (User-Agent faas-cli/…, Content-Type application/json only with a body, and
 * `Authorization: Bearer ` even with no token), the go-sdk for namespaces and invoke
 * (User-Agent openfaas-go-sdk; invoke paths end in `.openfaas-fn`), and the bodies of
 * proxy/deploy.go (FunctionDeployment) and proxy/delete.go.
 */
const CLI = { 'user-agent': 'faas-cli/0.16.38', authorization: 'Bearer ' };
const CLI_JSON = { ...CLI, 'content-type': 'application/json' };
const SDK = { 'user-agent': 'openfaas-go-sdk' };

let stack: LocalStack;
let gw: string;
let callbacks: Server;
let callbackUrl: string;
const received: Array<{ headers: IncomingHttpHeaders; body: string }> = [];

beforeAll(async () => {
  stack = await startTestStack({ GATEWAY_ASYNC_QUEUE: '1', GATEWAY_ASYNC_CONCURRENCY: '1' });
  gw = stack.gateway.url;
  callbacks = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => callbacks.listen(0, '127.0.0.1', r));
  callbackUrl = `http://127.0.0.1:${(callbacks.address() as AddressInfo).port}/done`;
});
afterAll(async () => {
  await stack?.stop();
  await new Promise((r) => callbacks?.close(r));
});

const status = async (name: string) =>
  (await (await fetch(`${gw}/system/function/${name}?usage=1`, { headers: CLI })).json()) as FunctionStatus;

describe('faas-cli version, namespaces, describe', () => {
  it('answers /system/info with the gateway and provider versions faas-cli version prints', async () => {
    const res = await fetch(`${gw}/system/info`, { headers: CLI });
    expect(res.status).toBe(200);
    const info = (await res.json()) as GatewayInfo;
    const { version } = JSON.parse(await readFile(`${ROOT}package.json`, 'utf8')) as { version: string };
    expect(info.provider).toMatchObject({ provider: 'systembreaker-local', orchestration: 'local' });
    expect(info.version.release).toBe(version);
    expect(info.version.sha).toMatch(/^[0-9a-f]{40}$/);
    expect(info.provider.version).toEqual(info.version);
    expect(['amd64', 'arm64']).toContain(info.arch);
  });

  it('lists the one namespace, and refuses another on the function routes as faas-netes does', async () => {
    expect(await (await fetch(`${gw}/system/namespaces`, { headers: SDK })).json()).toEqual(['openfaas-fn']);
    expect((await fetch(`${gw}/system/functions?namespace=openfaas-fn`, { headers: CLI })).status).toBe(200);
    const other = await fetch(`${gw}/system/functions?namespace=kube-system`, { headers: CLI });
    expect(other.status).toBe(400);
    expect(await other.json()).toEqual({
      error: { code: 'BAD_REQUEST', message: 'namespace must be: openfaas-fn' },
    });
    expect((await fetch(`${gw}/system/function/randshow?namespace=dev`, { headers: CLI })).status).toBe(400);
  });

  it('describes a function with the process its image runs', async () => {
    const dockerfile = await readFile(`${ROOT}deploy/function-image/Dockerfile`, 'utf8');
    const fprocess = /fprocess="([^"]+)"/.exec(dockerfile)?.[1];
    expect((await status('randshow')).envProcess).toBe(fprocess);
  });

  it('invokes {name}.openfaas-fn as faas-cli invoke sends it, and no other namespace', async () => {
    const stored = await fetch(`${gw}/function/randstore.openfaas-fn`, { method: 'POST', headers: SDK });
    expect(stored.status).toBe(200);
    expect((await fetch(`${gw}/function/randshow.openfaas-fn?format=json`, { headers: SDK })).status).toBe(
      200,
    );
    const elsewhere = await fetch(`${gw}/function/randshow.dev`, { headers: SDK });
    expect(elsewhere.status).toBe(404);
    expect(((await elsewhere.json()) as { error: { code: string } }).error.code).toBe('FUNCTION_NOT_FOUND');
  });
});

describe('faas-cli logs', () => {
  const lines = (text: string) =>
    text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as LogMessage);

  it('returns the replicas’ output as newline-delimited log messages, the last N with tail', async () => {
    const res = await fetch(`${gw}/system/logs?follow=false&name=randshow&tail=3`, { headers: CLI });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-ndjson');
    const messages = lines(await res.text());
    expect(messages.length).toBeGreaterThan(0);
    expect(messages.length).toBeLessThanOrEqual(3);
    for (const m of messages) {
      expect(Object.keys(m).sort()).toEqual(['instance', 'name', 'namespace', 'text', 'timestamp']);
      expect(m).toMatchObject({ name: 'randshow', namespace: 'openfaas-fn' });
      expect(m.instance).toMatch(/^randshow-\d+$/);
      expect(new Date(m.timestamp).toISOString()).toBe(m.timestamp);
    }
    const future = new Date(Date.now() + 60_000).toISOString();
    const none = await fetch(`${gw}/system/logs?follow=false&name=randshow&since=${future}`, {
      headers: CLI,
    });
    expect(lines(await none.text())).toEqual([]);
  });

  it('follows new lines as replicas write them until the client leaves', async () => {
    const controller = new AbortController();
    const res = await fetch(`${gw}/system/logs?follow=true&name=randshow&tail=-1`, {
      headers: CLI,
      signal: controller.signal,
    });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    const before =
      stack.gateway.sets
        .get('randshow')
        ?.all()
        .map((r) => r.id) ?? [];
    // A new replica logs as it starts.
    await fetch(`${gw}/system/scale-function/randshow`, {
      method: 'POST',
      headers: CLI_JSON,
      body: JSON.stringify({ serviceName: 'randshow', replicas: 2 }),
    });
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString('utf8');
      if (lines(text).some((m) => !before.includes(m.instance))) break;
    }
    controller.abort();
    expect(lines(text).some((m) => !before.includes(m.instance))).toBe(true);
    await fetch(`${gw}/system/scale-function/randshow`, {
      method: 'POST',
      headers: CLI_JSON,
      body: JSON.stringify({ serviceName: 'randshow', replicas: 1 }),
    });
  });

  it('refuses a query that does not parse (422) and an unknown function (404)', async () => {
    const bad = await fetch(`${gw}/system/logs?name=randshow&tail=many`, { headers: CLI });
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('BAD_LOG_REQUEST');
    expect((await fetch(`${gw}/system/logs?name=randshow&since=yesterday`, { headers: CLI })).status).toBe(
      422,
    );
    expect((await fetch(`${gw}/system/logs?name=nope&follow=false`, { headers: CLI })).status).toBe(404);
  });
});

describe('faas-cli invoke --async', () => {
  it('answers 202 with a call id and posts the result to X-Callback-Url with the queue worker’s headers', async () => {
    const res = await fetch(`${gw}/async-function/randstore.openfaas-fn`, {
      method: 'POST',
      headers: { ...SDK, 'content-type': 'text/plain', 'x-callback-url': callbackUrl },
    });
    expect(res.status).toBe(202);
    const callId = res.headers.get('x-call-id') as string;
    expect(callId).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get('x-start-time')).toMatch(/^\d{19}$/);
    await expect
      .poll(() => received.find((r) => r.headers['x-call-id'] === callId), { timeout: 20_000 })
      .toBeDefined();
    const done = received.find((r) => r.headers['x-call-id'] === callId);
    expect(done?.headers).toMatchObject({ 'x-function-name': 'randstore', 'x-function-status': '200' });
    expect(Number(done?.headers['x-duration-seconds'])).toBeGreaterThan(0);
    expect(JSON.parse(done?.body ?? '{}')).toMatchObject({ id: expect.any(Number) });
  });

  it('refuses a callback to another machine, a method other than POST, and a full queue', async () => {
    const elsewhere = await fetch(`${gw}/async-function/randstore`, {
      method: 'POST',
      headers: { ...SDK, 'x-callback-url': 'http://169.254.169.254/latest/meta-data' },
    });
    expect(elsewhere.status).toBe(400);
    expect((await fetch(`${gw}/async-function/randstore`, { headers: SDK })).status).toBe(405);
    // A page of another site may not queue calls either.
    const crossSite = await fetch(`${gw}/async-function/randstore`, {
      method: 'POST',
      headers: { origin: 'http://evil.example', 'content-type': 'text/plain' },
    });
    expect(crossSite.status).toBe(403);
    // The queue holds 1 and runs 1 at a time: of 5 sent at once, some are refused with 429.
    const codes = await Promise.all(
      Array.from({ length: 5 }, () =>
        fetch(`${gw}/async-function/randstore`, { method: 'POST', headers: SDK }).then((r) => r.status),
      ),
    );
    expect(codes.filter((c) => c === 202).length).toBeGreaterThanOrEqual(1);
    expect(codes).toContain(429);
    const metrics = await (await fetch(`${gw}/metrics`)).text();
    expect(metrics).toMatch(/^gateway_async_refused_total\{function_name="randstore"\} [1-9]/m);
    expect(metrics).toMatch(/^queue_worker_messages_processed_total\{queue_name="faas-request"\} [1-9]/m);
  });
});

describe('faas-cli deploy and remove', () => {
  /** The FunctionDeployment faas-cli deploy builds from stack.yml for a `lang: dockerfile` function. */
  const deployment = (envVars: Record<string, string>, labels: Record<string, string> = {}) => ({
    service: 'randshow',
    image: 'test/randshow:latest',
    namespace: '',
    envVars: {
      FUNCTION: 'randshow',
      MYSQL_USER: 'randshow',
      MYSQL_PASSWORD_SECRET: 'randshow-mysql-password',
      ...envVars,
    },
    constraints: [],
    secrets: ['randshow-mysql-password'],
    labels: { 'com.openfaas.scale.min': '1', 'com.openfaas.scale.max': '4', ...labels },
    annotations: {},
    readOnlyRootFilesystem: false,
  });
  const send = (method: string, body: unknown, query = '') =>
    fetch(`${gw}/system/functions${query}`, { method, headers: CLI_JSON, body: JSON.stringify(body) });
  const pids = () => (stack.gateway.sets.get('randshow')?.live ?? []).map((r) => r.pid);

  it('rolls the replicas to a new environment and labels: new ones serve, old ones are gone', async () => {
    const before = pids();
    const res = await send('PUT', deployment({ DB_POOL_SIZE: '3' }, { 'com.openfaas.scale.max': '3' }));
    expect(res.status).toBe(202);
    const after = await status('randshow');
    expect(after.envVars.DB_POOL_SIZE).toBe('3');
    expect(after.labels['com.openfaas.scale.max']).toBe('3');
    expect(pids().some((p) => before.includes(p))).toBe(false);
    expect((await fetch(`${gw}/function/randshow?format=json`)).status).toBe(200);
    // The old processes drain and exit.
    await expect
      .poll(() => before.filter((p) => p !== undefined && alive(p)), { timeout: 20_000 })
      .toEqual([]);
  });

  it('sizes a later deploy’s connection budget by the functions as they are deployed now', async () => {
    // randshow now runs at most 3 (above); randstore 4 and dbstats 1: randstore's share is 4 of 8.
    const randstore = {
      ...deployment({}),
      service: 'randstore',
      image: 'test/randstore:latest',
      envVars: {
        FUNCTION: 'randstore',
        MYSQL_USER: 'randstore',
        MYSQL_PASSWORD_SECRET: 'randstore-mysql-password',
      },
      secrets: ['randstore-mysql-password'],
    };
    expect((await send('PUT', randstore)).status).toBe(202);
    expect((await status('randstore')).envVars.DB_BUDGET_SHARE).toBe(String(4 / 8));
  });

  it('keeps the old replicas serving when the new ones cannot start, and says why', async () => {
    const before = pids();
    const res = await send('PUT', deployment({ DB_POOL_SIZE: 'many' }));
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: { message: string } };
    expect(error.message).toContain('new replicas did not start, so the old ones keep serving');
    expect(error.message).toContain('DB_POOL_SIZE');
    expect(pids()).toEqual(before);
    expect((await status('randshow')).envVars.DB_POOL_SIZE).toBe('3');
    expect((await fetch(`${gw}/function/randshow?format=json`)).status).toBe(200);
  });

  it('refuses what the local stack cannot run: another function, a missing secret, another namespace', async () => {
    const other = await send('POST', {
      ...deployment({}),
      service: 'figlet',
      image: 'ghcr.io/openfaas/figlet',
    });
    expect(other.status).toBe(400);
    expect(((await other.json()) as { error: { message: string } }).error.message).toContain(
      'the local stack can deploy randstore, randshow, dbstats',
    );
    const secret = await send('PUT', { ...deployment({}), secrets: ['aws-key'] });
    expect(secret.status).toBe(400);
    expect(((await secret.json()) as { error: { message: string } }).error.message).toContain(
      'secret "aws-key"',
    );
    expect((await send('PUT', { ...deployment({}), namespace: 'dev' })).status).toBe(400);
  });

  it('removes a function until it is deployed again: PUT is then 404, so faas-cli POSTs', async () => {
    expect((await send('DELETE', { functionName: 'randshow' })).status).toBe(202);
    expect((await fetch(`${gw}/function/randshow`)).status).toBe(404);
    const names = (
      (await (await fetch(`${gw}/system/functions`, { headers: CLI })).json()) as FunctionStatus[]
    ).map((f) => f.name);
    expect(names).not.toContain('randshow');
    expect((await send('DELETE', { functionName: 'randshow' })).status).toBe(404);
    expect((await send('PUT', deployment({}))).status).toBe(404);
    expect((await send('POST', deployment({}))).status).toBe(202);
    expect((await fetch(`${gw}/function/randshow?format=json`)).status).toBe(200);
  });
});
