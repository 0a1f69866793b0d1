import { createHash } from 'node:crypto';
import mysql from 'mysql2/promise';
import { type Dispatcher, request as undiciRequest } from 'undici';
import { drawCat } from '../catsource/draw.ts';
import type { Fault } from '../catsource/faults.ts';
import { errorCodeOf } from '../contract/errors.ts';
import { FUNCTION_NAMES } from '../contract/functions.ts';
import { parsePlan } from '../contract/plan.ts';
import { encodeForStorage } from '../functions/lib/codec.ts';
import { parseGatewayConfig } from '../gateway/config.ts';
import { DATABASE } from '../gateway/local-stack.ts';
import { LoadEngine } from '../loadgen/src/node/engine.ts';
import { seedCats } from '../mysql/seed.ts';
import { withDatabase } from '../mysql/server.ts';
import { abandonedCase } from './abandoned.ts';
import type { FaultContext } from './context.ts';
import { rebootCase } from './reboot.ts';

export interface Outcome {
  observed: string;
  pass: boolean;
}

export interface FaultCase {
  group: string;
  name: string;
  expected: string;
  run(ctx: FaultContext): Promise<Outcome>;
}

/** "503 DB_UNAVAILABLE", or "200" for a success. */
async function answer(res: Response): Promise<string> {
  const code = errorCodeOf(await res.text());
  return code ? `${res.status} ${code}` : String(res.status);
}

const store = (ctx: FaultContext, init: RequestInit = {}, query = '') =>
  fetch(`${ctx.gw}/function/randstore${query}`, { method: 'POST', ...init });

/** A bad cat source: the documented answer, no row, and the replica serving the next call. */
function upstream(fault: Exclude<Fault, 'none'>, expected: string): FaultCase {
  return {
    group: 'bad upstream',
    name: `cat source: ${fault}`,
    expected: `${expected}, 0 rows, replica serves the next call`,
    async run(ctx) {
      const before = await ctx.rows();
      ctx.stack.catSource.setFault(fault);
      let got: string;
      try {
        got = await answer(await store(ctx));
      } finally {
        ctx.stack.catSource.setFault('none');
      }
      const added = (await ctx.rows()) - before;
      const next = (await store(ctx)).status;
      return {
        observed: `${got}, ${added} rows, next call ${next}`,
        pass: got === expected && added === 0 && next === 200,
      };
    },
  };
}

/**
 * A request as a web page of another site would send it (undici: fetch would not send the
 * Host header): the answer's status and code, and whether randshow's replicas or the live
 * load engine changed.
 */
function crossSite(
  name: string,
  expected: string,
  call: (ctx: FaultContext) => Promise<Dispatcher.ResponseData>,
): FaultCase {
  return {
    group: 'security',
    name,
    expected,
    async run(ctx) {
      const set = ctx.stack.gateway.sets.get('randshow');
      const before = set?.desired;
      const res = await call(ctx);
      const code = errorCodeOf(await res.body.text());
      await new Promise((r) => setTimeout(r, 200));
      const unchanged = set?.desired === before && !ctx.stack.gateway.liveLoad.running;
      const got = `${res.statusCode} ${code}`;
      return {
        observed: `${got}, replicas ${unchanged ? 'unchanged' : `now ${set?.desired}`}`,
        pass: expected.startsWith(got) && unchanged,
      };
    },
  };
}

function request(name: string, expected: string, call: (ctx: FaultContext) => Promise<Response>): FaultCase {
  return {
    group: 'bad request',
    name,
    expected,
    async run(ctx) {
      const got = await answer(await call(ctx));
      return { observed: got, pass: got === expected };
    },
  };
}

/** Up to `total` calls, `parallel` at a time; the answers counted, the slowest call timed. */
async function burst(url: string, total: number, parallel: number) {
  let next = 0;
  let slowest = 0;
  const answers: Record<string, number> = {};
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next++ < total) {
        const t = Date.now();
        const got = await answer(await fetch(url));
        slowest = Math.max(slowest, Date.now() - t);
        answers[got] = (answers[got] ?? 0) + 1;
      }
    }),
  );
  return { answers, slowest };
}

const listOf = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([k, n]) => `${k}×${n}`)
    .join(', ');

export const CASES: FaultCase[] = [
  upstream('html', '502 SOURCE_NOT_IMAGE'),
  upstream('not-image', '502 SOURCE_NOT_IMAGE'),
  upstream('truncated', '502 SOURCE_NOT_IMAGE'),
  upstream('404', '502 SOURCE_HTTP_ERROR'),
  upstream('500', '502 SOURCE_HTTP_ERROR'),
  upstream('slow', '504 SOURCE_TIMEOUT'),
  upstream('drip', '504 SOURCE_TIMEOUT'),
  upstream('huge', '502 SOURCE_TOO_LARGE'),
  upstream('redirect-loop', '502 SOURCE_TOO_MANY_REDIRECTS'),
  upstream('cut', '502 SOURCE_BAD_RESPONSE'),
  upstream('redirect-file', '502 SOURCE_BAD_RESPONSE'),
  upstream('429', '503 SOURCE_RATE_LIMITED'),

  request('GET randstore', '405 METHOD_NOT_ALLOWED', (ctx) => fetch(`${ctx.gw}/function/randstore`)),
  request('PUT randshow', '405 METHOD_NOT_ALLOWED', (ctx) =>
    fetch(`${ctx.gw}/function/randshow`, { method: 'PUT' }),
  ),
  request('randshow POST with a chunked 1 MiB body', '413 BODY_TOO_LARGE', (ctx) =>
    fetch(`${ctx.gw}/function/randshow`, {
      method: 'POST',
      // A stream has no Content-Length: the function must bound it while reading.
      body: new Blob([Buffer.alloc(1024 * 1024, 0x61)]).stream(),
      duplex: 'half',
    } as RequestInit),
  ),
  request('DELETE dbstats', '405 METHOD_NOT_ALLOWED', (ctx) =>
    fetch(`${ctx.gw}/function/dbstats`, { method: 'DELETE' }),
  ),
  request('randshow ?strategy=fastest', '400 BAD_REQUEST', (ctx) =>
    fetch(`${ctx.gw}/function/randshow?strategy=fastest`),
  ),
  request('randshow ?format=gif', '400 BAD_REQUEST', (ctx) =>
    fetch(`${ctx.gw}/function/randshow?format=gif`),
  ),
  request('randshow ?id=abc', '400 BAD_REQUEST', (ctx) => fetch(`${ctx.gw}/function/randshow?id=abc`)),
  request('randshow ?id=99999999', '404 NO_SUCH_CAT', (ctx) =>
    fetch(`${ctx.gw}/function/randshow?id=99999999`),
  ),
  request('randstore with a 2 MiB body', '413 BODY_TOO_LARGE', (ctx) =>
    store(ctx, { body: Buffer.alloc(2 * 1024 * 1024, 0x61) }),
  ),
  request('unknown function', '404 FUNCTION_NOT_FOUND', (ctx) => fetch(`${ctx.gw}/function/nope`)),
  request('load-engine start with a 100 KiB body', '413 BODY_TOO_LARGE', (ctx) =>
    fetch(`${ctx.gw}/system/loadgen/start`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ pad: 'x'.repeat(100 * 1024) }),
    }),
  ),
  request('scale-function with broken JSON', '400 BAD_REQUEST', (ctx) =>
    fetch(`${ctx.gw}/system/scale-function/randshow`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"replicas":',
    }),
  ),

  {
    group: 'security',
    name: 'randshow’s MySQL user cannot INSERT',
    expected: 'ER_TABLEACCESS_DENIED_ERROR',
    async run(ctx) {
      const url = new URL(ctx.stack.mysql.url);
      url.username = 'randshow';
      url.password = await ctx.password('randshow');
      const conn = await mysql.createConnection({ uri: url.toString() });
      try {
        await conn.query(
          "INSERT INTO cats (source_url, mime, width, height, original_bytes, stored_bytes, sha256, encoding, image) VALUES ('x','image/png',1,1,1,1,REPEAT('0',64),'raw','x')",
        );
        return { observed: 'inserted', pass: false };
      } catch (err) {
        const code = (err as { code?: string }).code ?? String(err);
        return { observed: code, pass: code === 'ER_TABLEACCESS_DENIED_ERROR' };
      } finally {
        await conn.end();
      }
    },
  },
  {
    group: 'security',
    name: 'a request cannot choose the cat source',
    expected: '200, stored from the configured source',
    async run(ctx) {
      const evil = 'http://127.0.0.1:9/evil';
      const res = await store(
        ctx,
        {
          body: JSON.stringify({ url: evil }),
          headers: { 'content-type': 'application/json', 'x-cat-source': evil },
        },
        `?url=${encodeURIComponent(evil)}&source=${encodeURIComponent(evil)}`,
      );
      const { id } = (await res.json()) as { id: number };
      const [row] = await ctx.sql<Array<{ source_url: string }>>(
        `SELECT source_url FROM ${DATABASE}.cats WHERE id = ?`,
        [id],
      );
      const configured = `${ctx.stack.catSource.url}/cat`;
      return {
        observed: `${res.status}, stored from ${row?.source_url}`,
        pass: res.status === 200 && row?.source_url === configured,
      };
    },
  },
  {
    group: 'security',
    name: 'randshow escapes what it embeds and sends a CSP',
    expected: 'markup escaped; CSP default-src none',
    async run(ctx) {
      const image = await drawCat({ seed: 1, width: 40, height: 30, format: 'png' });
      const stored = encodeForStorage(image, 'escaped-base64');
      const result = await ctx.sql<{ insertId: number }>(
        `INSERT INTO ${DATABASE}.cats (source_url, mime, width, height, original_bytes, stored_bytes, sha256, encoding, image) VALUES (?, 'image/png', 40, 30, ?, ?, ?, 'escaped-base64', ?)`,
        [
          'http://x/"><script>alert(1)</script>',
          image.byteLength,
          stored.byteLength,
          createHash('sha256').update(image).digest('hex'),
          stored,
        ],
      );
      const res = await fetch(`${ctx.gw}/function/randshow?id=${result.insertId}`);
      const html = await res.text();
      const csp = res.headers.get('content-security-policy') ?? '';
      const escaped = html.includes('&lt;script&gt;') && !html.includes('<script>');
      return {
        observed: `${escaped ? 'markup escaped' : 'markup NOT escaped'}; CSP ${csp}`,
        pass: escaped && csp.includes("default-src 'none'"),
      };
    },
  },
  {
    group: 'security',
    name: 'CORS only for configured origins',
    expected: 'no Access-Control-Allow-Origin for an unknown origin',
    async run(ctx) {
      const res = await fetch(`${ctx.gw}/function/randshow`, {
        method: 'OPTIONS',
        headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
      });
      const acao = res.headers.get('access-control-allow-origin');
      return {
        observed: acao
          ? `Access-Control-Allow-Origin: ${acao}`
          : `${res.status}, no Access-Control-Allow-Origin`,
        pass: acao === null,
      };
    },
  },
  {
    group: 'security',
    name: 'the gateway binds loopback unless told otherwise',
    expected: '127.0.0.1',
    async run(ctx) {
      const configured = parseGatewayConfig({}).GATEWAY_HOST;
      const bound = new URL(ctx.gw).hostname;
      return {
        observed: `default ${configured}, bound ${bound}`,
        pass: configured === '127.0.0.1' && bound === '127.0.0.1',
      };
    },
  },
  crossSite(
    'a cross-site page scales a function (text/plain POST)',
    '403 ORIGIN_NOT_ALLOWED, replicas unchanged',
    (ctx) =>
      undiciRequest(`${ctx.gw}/system/scale-function/randshow`, {
        method: 'POST',
        headers: { origin: 'http://evil.example', 'content-type': 'text/plain' },
        body: '{"serviceName":"randshow","replicas":3}',
      }),
  ),
  crossSite(
    'a cross-site page starts the live load engine',
    '403 ORIGIN_NOT_ALLOWED, replicas unchanged',
    (ctx) =>
      undiciRequest(`${ctx.gw}/system/loadgen/start`, {
        method: 'POST',
        headers: { origin: 'http://evil.example', 'content-type': 'text/plain' },
        body: '{"rate":5}',
      }),
  ),
  crossSite(
    'a DNS-rebound page reads the functions (Host: evil.example)',
    '421 HOST_NOT_ALLOWED, replicas unchanged',
    (ctx) => undiciRequest(`${ctx.gw}/system/functions`, { headers: { host: 'evil.example:18080' } }),
  ),
  crossSite('a tool posts text/plain to /system', '415 UNSUPPORTED_MEDIA_TYPE, replicas unchanged', (ctx) =>
    undiciRequest(`${ctx.gw}/system/scale-function/randshow`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{"serviceName":"randshow","replicas":3}',
    }),
  ),

  {
    group: 'connection exhaustion',
    name: 'max_connections 10, 4 randshow replicas × pool 10',
    expected:
      'only 503 DB_TOO_MANY_CONNECTIONS besides 200, none past 10 s, replicas alive, counted in metrics',
    async run(ctx) {
      // Enough rows that ORDER BY RAND() holds each connection for a while, so requests overlap.
      await seedCats(withDatabase(ctx.stack.mysql.url, DATABASE), 3000, 2048);
      const set = ctx.stack.gateway.sets.get('randshow');
      set?.scaleTo(4);
      const deadline = Date.now() + 20_000;
      while ((set?.available ?? 0) < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const pids = set?.live.map((r) => r.pid) ?? [];
      await ctx.sql('SET GLOBAL max_connections = 10');
      let result: Awaited<ReturnType<typeof burst>>;
      try {
        result = await burst(`${ctx.gw}/function/randshow?format=json&strategy=order-by-rand`, 160, 40);
      } finally {
        await ctx.sql('SET GLOBAL max_connections = 151');
      }
      const alive = set?.live.map((r) => r.pid) ?? [];
      const metrics = await (await fetch(`${ctx.gw}/metrics`)).text();
      const counted =
        /systembreaker_errors_total\{[^}]*error_code="DB_TOO_MANY_CONNECTIONS"[^}]*\} [1-9]/.test(metrics);
      set?.scaleTo(1);
      const codes = Object.keys(result.answers);
      return {
        observed: `${listOf(result.answers)}; slowest ${result.slowest} ms; replicas ${pids.every((p) => alive.includes(p)) ? 'alive' : 'replaced'}; metric ${counted ? 'counted' : 'missing'}`,
        pass:
          codes.includes('503 DB_TOO_MANY_CONNECTIONS') &&
          codes.every((c) => c === '200' || c === '503 DB_TOO_MANY_CONNECTIONS') &&
          result.slowest < 10_000 &&
          pids.every((p) => alive.includes(p)) &&
          counted,
      };
    },
  },

  {
    group: 'database outage',
    name: 'MySQL stopped mid-load, then started again',
    expected: 'only 503 DB_UNAVAILABLE while down; 2xx within 5 s of its return; no restart',
    async run(ctx) {
      const { stopServer, startServer } = ctx.stack.mysql;
      if (!stopServer || !startServer)
        return { observed: 'this MySQL cannot be stopped (MYSQL_URL)', pass: false };
      const pids = [...ctx.stack.gateway.sets.values()].flatMap((s) => s.live.map((r) => r.pid));
      const engine = new LoadEngine({
        target: ctx.gw,
        plan: parsePlan({
          rate: 20,
          durationS: 14,
          ratio: { randstore: 1, randshow: 3 },
          strategy: 'random-id',
        }),
        maxInFlight: 128,
        connections: 16,
        timeoutMs: 10_000,
      });
      const run = engine.run();
      await new Promise((r) => setTimeout(r, 3000));
      await stopServer();
      await new Promise((r) => setTimeout(r, 3000));
      await startServer();
      const back = Date.now();
      let recoveredMs = Number.POSITIVE_INFINITY;
      while (Date.now() - back < 10_000) {
        const [s, r] = await Promise.all([
          store(ctx),
          fetch(`${ctx.gw}/function/randshow?format=json&strategy=random-id`),
        ]);
        await Promise.all([s.arrayBuffer(), r.arrayBuffer()]);
        if (s.status === 200 && r.status === 200) {
          recoveredMs = Date.now() - back;
          break;
        }
        await new Promise((res) => setTimeout(res, 100));
      }
      const results = await run;
      const codes: Record<string, number> = {};
      for (const s of results.summary)
        for (const [c, n] of Object.entries(s.byCode)) codes[c] = (codes[c] ?? 0) + n;
      const same = [...ctx.stack.gateway.sets.values()].flatMap((s) => s.live.map((r) => r.pid));
      const restarted = pids.some((p) => !same.includes(p));
      return {
        observed: `errors ${listOf(codes) || 'none'}; 2xx again after ${recoveredMs} ms; replicas ${restarted ? 'restarted' : 'not restarted'}`,
        pass:
          Object.keys(codes).every((c) => c === 'DB_UNAVAILABLE') &&
          (codes.DB_UNAVAILABLE ?? 0) > 0 &&
          recoveredMs <= 5000 &&
          !restarted,
      };
    },
  },

  rebootCase,
  abandonedCase,

  {
    group: 'integrity',
    name: 'every row after all of the above',
    expected: 'sha256 of every decoded image matches',
    async run(ctx) {
      const rows = await ctx.rows();
      const bad = await ctx.invalidRows();
      return { observed: `${rows} rows, ${bad.length} mismatched`, pass: rows > 0 && bad.length === 0 };
    },
  },

  {
    group: 'security',
    name: 'no secret in any log',
    expected: 'no MySQL password in the gateway’s or replicas’ logs',
    async run(ctx) {
      const secrets = await Promise.all(FUNCTION_NAMES.map((u) => ctx.password(u)));
      const text = ctx.logs.join('\n');
      const leaked = secrets.filter((s) => text.includes(s)).length;
      return {
        observed: `${ctx.logs.length} log lines, ${leaked} secrets found`,
        pass: ctx.logs.length > 0 && leaked === 0,
      };
    },
  },
];
