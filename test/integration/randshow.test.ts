import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CatSourceServer, startCatSource } from '../../catsource/server.ts';
import type { ShownCat, StoredAnswer } from '../../contract/functions.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { buildHandlers, get, post } from '../support/functions.ts';

let cats: CatSourceServer;
let db: TestDatabase;
let fns: ReturnType<typeof buildHandlers>;
let stored: StoredAnswer;
let original: Buffer;

beforeAll(async () => {
  cats = await startCatSource();
  db = await createTestDatabase();
  const url = `${cats.url}/cat?format=webp&width=240&height=180&seed=11`;
  fns = buildHandlers(db, url);
  original = Buffer.from(await (await fetch(url)).arrayBuffer());
});
afterAll(async () => {
  await fns?.source.close();
  await db?.drop();
  await cats?.close();
});

describe('randshow on an empty table', () => {
  it.each(['order-by-rand', 'random-id', 'pk-subquery'])('answers 404 NO_CATS with %s', async (strategy) => {
    const res = await fns.randshow(get(`/?strategy=${strategy}`));
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      error: { code: 'NO_CATS', message: 'there are no cats yet: call randstore first' },
    });
  });
});

describe('randshow with a stored cat', () => {
  beforeAll(async () => {
    stored = (await (await fns.randstore(post())).json()) as StoredAnswer;
  });

  describe.each(['order-by-rand', 'random-id', 'pk-subquery'])('strategy %s', (strategy) => {
    it('serves the image bytes with their content type (format=raw)', async () => {
      const res = await fns.randshow(get(`/?strategy=${strategy}&format=raw`));
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/webp');
      expect(res.headers.get('x-cat-id')).toBe(String(stored.id));
      expect(res.headers.get('x-randshow-strategy')).toBe(strategy);
      expect(Buffer.from(await res.arrayBuffer()).equals(original)).toBe(true);
    });

    it('serves the metadata (format=json)', async () => {
      const res = await fns.randshow(get(`/?strategy=${strategy}&format=json`));
      const shown = (await res.json()) as ShownCat;
      expect(shown).toMatchObject({
        id: stored.id,
        mime: 'image/webp',
        width: 240,
        height: 180,
        bytes: original.byteLength,
        sha256: createHash('sha256').update(original).digest('hex'),
        encoding: 'escaped-base64',
        strategy,
      });
    });

    it('serves a page with the cat as an <img> data: URI and a CSP (format=html, the default)', async () => {
      const res = await fns.randshow(get(`/?strategy=${strategy}`));
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
      const html = await res.text();
      expect(html).toContain(`<img src="data:image/webp;base64,${original.toString('base64')}"`);
    });
  });

  it('serves one particular cat with ?id=, and 404 NO_SUCH_CAT for an id that does not exist', async () => {
    const res = await fns.randshow(get(`/?format=json&id=${stored.id}`));
    expect(await res.json()).toMatchObject({ id: stored.id, strategy: 'by-id' });
    const missing = await fns.randshow(get(`/?id=${stored.id + 1000}`));
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'NO_SUCH_CAT' } });
  });

  it('uses the configured default strategy when the request names none', async () => {
    const res = await fns.randshow(get('/?format=json'));
    expect(((await res.json()) as ShownCat).strategy).toBe('order-by-rand');
  });

  it.each([
    ['/?strategy=fastest', /strategy must be one of order-by-rand, random-id, pk-subquery; got "fastest"/],
    ['/?format=gif', /format must be one of html, raw, json; got "gif"/],
  ])('answers %s with 400 BAD_REQUEST naming the allowed values', async (path, message) => {
    const res = await fns.randshow(get(path));
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('BAD_REQUEST');
    expect(body.error.message).toMatch(message);
  });

  it('answers POST as GET, as faas-cli invoke sends it, and ignores the body', async () => {
    const res = await fns.randshow(
      new Request('http://function/?format=json&strategy=random-id', { method: 'POST', body: 'hello' }),
    );
    expect(res.status).toBe(200);
    expect(((await res.json()) as ShownCat).id).toBe(stored.id);
  });

  it('refuses a POST body over the limit with 413, even without Content-Length', async () => {
    const body = new Blob([new Uint8Array(128 * 1024)]).stream();
    const res = await fns.randshow(
      new Request('http://function/?format=json', { method: 'POST', body, duplex: 'half' } as RequestInit),
    );
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: { code: 'BODY_TOO_LARGE' } });
  });

  it('refuses PUT with 405, naming the methods it takes', async () => {
    const res = await fns.randshow(new Request('http://function/', { method: 'PUT' }));
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD, POST');
  });

  it('refuses to serve a row whose image no longer matches its sha256', async () => {
    await db.query("UPDATE cats SET image = CONCAT('AAAA', image) WHERE id = ?", [stored.id]);
    const res = await fns.randshow(get('/?format=raw&strategy=random-id'));
    expect(res.status).toBe(500);
    expect(await res.json()).toMatchObject({ error: { code: 'INTEGRITY_MISMATCH' } });
    await db.query('UPDATE cats SET image = SUBSTRING(image, 5) WHERE id = ?', [stored.id]);
    expect((await fns.randshow(get('/?format=raw'))).status).toBe(200);
  });
});

describe('dbstats', () => {
  it('reports rows, blob bytes and the server’s connection counters', async () => {
    const res = await fns.dbstats(get());
    expect(res.status).toBe(200);
    const stats = await res.json();
    expect(stats).toMatchObject({
      rows: 1,
      blobBytes: stored.storedBytes,
      originalBytes: stored.bytes,
      server: {
        threadsConnected: expect.any(Number),
        queriesRunning: expect.any(Number),
        maxUsedConnections: expect.any(Number),
        maxConnections: expect.any(Number),
        abortedConnects: expect.any(Number),
        connectionErrorsMaxConnections: expect.any(Number),
        uptimeSeconds: expect.any(Number),
        // Nothing else runs on this database now, and its own statement is left out.
        longestQuery: null,
      },
      pool: { limit: 10 },
    });
    expect(stats.server.threadsConnected).toBeGreaterThanOrEqual(1);
    expect(stats.server.maxConnections).toBeGreaterThan(stats.server.threadsConnected);
  });
});
