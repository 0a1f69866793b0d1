import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { Pool } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { forward, type ProxyResult } from '../../gateway/proxy.ts';
import type { Replica } from '../../gateway/replica.ts';

const servers: Server[] = [];
const pools: Pool[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  await Promise.all(pools.splice(0).map((p) => p.destroy()));
});

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/**
 * A stand-in replica (a real HTTP server on loopback) behind the gateway's proxy, itself on a
 * server of its own as /function/… routes it; every call's result is kept.
 */
async function proxyTo(
  replica: (req: IncomingMessage, res: ServerResponse) => void,
  timeoutMs = 10_000,
): Promise<{ url: string; results: ProxyResult[] }> {
  const upstream = await listen(replica);
  const pool = new Pool(upstream);
  pools.push(pool);
  const target = { id: 'fn-1', url: upstream, dispatcher: pool } as unknown as Replica;
  const results: ProxyResult[] = [];
  const url = await listen((req, res) => {
    void forward(req, res, target, req.url ?? '/', timeoutMs).then((r) => results.push(r));
  });
  return { url, results };
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('the gateway’s proxy to a replica', () => {
  it('adds OpenFaaS’s call headers: a new X-Call-Id and X-Start-Time in nanoseconds both ways, X-Forwarded-Host and -For; hop-by-hop headers stay behind', async () => {
    let seen: IncomingMessage['headers'] = {};
    const { url } = await proxyTo((req, res) => {
      seen = req.headers;
      res
        .writeHead(200, { 'content-type': 'text/plain', 'x-fn': 'yes', 'keep-alive': 'timeout=99' })
        .end('ok');
    });
    const before = BigInt(Date.now()) * 1_000_000n;
    const res = await fetch(`${url}/x?y=1`, { headers: { 'x-mine': 'kept', te: 'trailers' } });
    expect(await res.text()).toBe('ok');
    expect(seen['x-call-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get('x-call-id')).toBe(seen['x-call-id']);
    expect(seen['x-start-time']).toMatch(/^\d{19}$/);
    expect(BigInt(seen['x-start-time'] as string)).toBeGreaterThanOrEqual(before - 1_000_000n);
    expect(res.headers.get('x-start-time')).toBe(seen['x-start-time']);
    expect(seen['x-forwarded-host']).toBe(new URL(url).host);
    expect(seen['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen['x-mine']).toBe('kept');
    expect(seen.te).toBeUndefined();
    expect(res.headers.get('x-fn')).toBe('yes');
    expect(res.headers.get('keep-alive')).not.toBe('timeout=99');
  });

  it('keeps the caller’s own X-Call-Id and X-Forwarded-For, and does not add a second call id to the answer', async () => {
    let seen: IncomingMessage['headers'] = {};
    const { url } = await proxyTo((req, res) => {
      seen = req.headers;
      res.end('ok');
    });
    const res = await fetch(url, { headers: { 'x-call-id': 'call-7', 'x-forwarded-for': '10.1.2.3' } });
    await res.text();
    expect(seen['x-call-id']).toBe('call-7');
    expect(seen['x-forwarded-for']).toBe('10.1.2.3');
    expect(res.headers.get('x-call-id')).toBeNull();
    expect(res.headers.get('x-start-time')).toMatch(/^\d{19}$/);
  });

  it('streams a 32 MiB answer to a caller that does not read yet without holding it: the replica is held back, then every byte arrives', async () => {
    const body = randomBytes(32 << 20);
    let written = 0;
    const { url, results } = await proxyTo((_req, res) => {
      res.writeHead(200, { 'content-length': body.length, 'content-type': 'application/octet-stream' });
      const step = 64 << 10;
      const more = () => {
        while (written < body.length) {
          const ok = res.write(body.subarray(written, written + step));
          written += step;
          if (!ok) return void res.once('drain', more);
        }
        res.end();
      };
      more();
    });
    const { port } = new URL(url);
    const socket = connect(Number(port), '127.0.0.1');
    await once(socket, 'connect');
    socket.pause();
    socket.write('GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await new Promise((r) => setTimeout(r, 500));
    // Socket buffers on both hops hold a few MiB; a proxy without backpressure would have
    // drawn all 32 from the replica by now.
    expect(written).toBeLessThan(16 << 20);
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.resume();
    await once(socket, 'end');
    const raw = Buffer.concat(chunks);
    const head = raw.indexOf('\r\n\r\n');
    expect(raw.subarray(0, 12).toString()).toBe('HTTP/1.1 200');
    expect(sha(raw.subarray(head + 4))).toBe(sha(body));
    expect(results).toEqual([{ status: 200 }]);
  });

  it('streams a request body to the replica as it comes, byte for byte', async () => {
    const { url } = await proxyTo(async (req, res) => {
      const parts: Buffer[] = [];
      for await (const c of req) parts.push(c as Buffer);
      res.end(sha(Buffer.concat(parts)));
    });
    const body = randomBytes(8 << 20);
    const res = await fetch(url, { method: 'POST', body });
    expect(await res.text()).toBe(sha(body));
  });

  it('cuts the caller’s connection when the replica dies mid-answer, and calls it REPLICA_FAILED', async () => {
    const { url, results } = await proxyTo((_req, res) => {
      res.writeHead(200, { 'content-length': 1 << 20 });
      res.write(Buffer.alloc(100 << 10));
      setTimeout(() => res.socket?.destroy(), 50);
    });
    const res = await fetch(url);
    expect(res.status).toBe(200);
    await expect(res.arrayBuffer()).rejects.toThrow();
    await expect.poll(() => results).toEqual([{ status: 502, errorCode: 'REPLICA_FAILED' }]);
  });

  it('answers 504 UPSTREAM_TIMEOUT with its code when the replica has not answered in time', async () => {
    const { url, results } = await proxyTo(() => {}, 300);
    const res = await fetch(url);
    expect(res.status).toBe(504);
    expect(await res.json()).toMatchObject({ error: { code: 'UPSTREAM_TIMEOUT' } });
    expect(results).toEqual([{ status: 504, errorCode: 'UPSTREAM_TIMEOUT' }]);
  });

  it('passes a caller’s hang-up on: the replica’s call is closed before its answer ends', async () => {
    let replicaSawClose = false;
    const { url, results } = await proxyTo((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const timer = setInterval(() => res.write('tick\n'), 20);
      res.on('close', () => {
        clearInterval(timer);
        replicaSawClose = !res.writableFinished;
      });
    });
    const abort = new AbortController();
    const res = await fetch(url, { signal: abort.signal });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    abort.abort();
    await expect.poll(() => replicaSawClose).toBe(true);
    await expect.poll(() => results).toEqual([{ status: 499, errorCode: 'CLIENT_CLOSED' }]);
  });

  it('says a refused connection was refused, with nothing sent, so another replica may take the call', async () => {
    const closed = await listen(() => {});
    const server = servers.pop() as Server;
    await new Promise((r) => server.close(r));
    const pool = new Pool(closed);
    pools.push(pool);
    const target = { id: 'fn-2', dispatcher: pool } as unknown as Replica;
    const results: ProxyResult[] = [];
    const url = await listen((req, res) => {
      void forward(req, res, target, '/', 5000).then((r) => {
        results.push(r);
        res.writeHead(502).end(String(res.headersSent));
      });
    });
    const res = await fetch(url);
    expect(res.status).toBe(502);
    expect(results).toEqual([{ status: 502, errorCode: 'REPLICA_FAILED', refused: true }]);
  });

  it('closes the caller’s connection after a replica’s early 413, whose unread body it cannot carry on past', async () => {
    const { url } = await proxyTo((_req, res) => {
      res.writeHead(413, { 'content-type': 'text/plain' }).end('too large');
    });
    const { port } = new URL(url);
    const answer = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', agent: false }, resolve);
      req.on('error', reject);
      req.write(Buffer.alloc(64 << 10));
      // the rest of the body never comes
    });
    expect(answer.statusCode).toBe(413);
    expect(answer.headers.connection).toBe('close');
    answer.resume();
  });
});
