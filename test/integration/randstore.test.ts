import { createHash } from 'node:crypto';
import type { RowDataPacket } from 'mysql2/promise';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CatSourceServer, startCatSource } from '../../catsource/server.ts';
import type { StoredAnswer } from '../../contract/functions.ts';
import { decodeFromStorage } from '../../functions/lib/codec.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { buildHandlers, post } from '../support/functions.ts';

let cats: CatSourceServer;
let db: TestDatabase;
beforeAll(async () => {
  cats = await startCatSource({ slowMs: 10_000, hugeBytes: 20 * 1024 * 1024 });
  db = await createTestDatabase(undefined, 10);
});
afterAll(async () => {
  await db?.drop();
  await cats?.close();
});

const rowCount = async () =>
  (await db.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM cats'))[0]?.n as number;

interface Row extends RowDataPacket {
  id: number;
  mime: string;
  width: number;
  height: number;
  original_bytes: number;
  stored_bytes: number;
  sha256: string;
  encoding: 'escaped-base64' | 'raw';
  source_url: string;
  image: Buffer;
}

async function row(id: number): Promise<Row> {
  const [r] = await db.query<Row[]>('SELECT * FROM cats WHERE id = ?', [id]);
  if (!r) throw new Error(`no row ${id}`);
  return r;
}

describe('randstore', () => {
  it.each(['escaped-base64', 'raw'] as const)(
    'stores a generated cat as %s and the row matches it',
    async (encoding) => {
      const url = `${cats.url}/cat?format=png&width=300&height=200&seed=5`;
      const { randstore, source } = buildHandlers(db, url, { encoding });
      const res = await randstore(post());
      await source.close();
      expect(res.status).toBe(200);
      const answer = (await res.json()) as StoredAnswer;

      const original = await (await fetch(url)).arrayBuffer().then((b) => Buffer.from(b));
      const r = await row(answer.id);
      expect(r).toMatchObject({
        mime: 'image/png',
        width: 300,
        height: 200,
        original_bytes: original.byteLength,
        stored_bytes: r.image.byteLength,
        sha256: createHash('sha256').update(original).digest('hex'),
        encoding,
        source_url: url,
      });
      expect(decodeFromStorage(r.image, encoding).equals(original)).toBe(true);
      if (encoding === 'escaped-base64') {
        expect(r.image.toString('latin1')).toBe(encodeURIComponent(original.toString('base64')));
      }
      expect(answer).toMatchObject({
        bytes: original.byteLength,
        storedBytes: r.image.byteLength,
        width: 300,
      });
    },
  );

  it.each([
    ['html', 'SOURCE_NOT_IMAGE', 502],
    ['not-image', 'SOURCE_NOT_IMAGE', 502],
    ['truncated', 'SOURCE_NOT_IMAGE', 502],
    ['404', 'SOURCE_HTTP_ERROR', 502],
    ['redirect-loop', 'SOURCE_TOO_MANY_REDIRECTS', 502],
    ['huge', 'SOURCE_TOO_LARGE', 502],
  ])('answers a %s source with %s and inserts nothing', async (fault, code, status) => {
    const before = await rowCount();
    const { randstore, source } = buildHandlers(db, `${cats.url}/cat?fault=${fault}`);
    const res = await randstore(post());
    await source.close();
    expect(res.status).toBe(status);
    expect(await res.json()).toMatchObject({ error: { code } });
    expect(await rowCount()).toBe(before);
  });

  it('rejects an oversized image and inserts nothing', async () => {
    const before = await rowCount();
    const { randstore, source } = buildHandlers(db, `${cats.url}/cat?width=1200&height=900`, {
      limits: { maxDimension: 1000 },
    });
    const res = await randstore(post());
    await source.close();
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({ error: { code: 'IMAGE_TOO_LARGE' } });
    expect(await rowCount()).toBe(before);
  });

  it('stores an oversized image scaled down when configured to resize', async () => {
    const { randstore, source } = buildHandlers(db, `${cats.url}/cat?format=jpeg&width=1200&height=900`, {
      limits: { maxDimension: 600, oversize: 'resize' },
    });
    const res = await randstore(post());
    await source.close();
    const answer = (await res.json()) as StoredAnswer;
    expect(answer).toMatchObject({ width: 600, height: 450, resized: true });
    const r = await row(answer.id);
    const meta = await sharp(decodeFromStorage(r.image, r.encoding)).metadata();
    expect([meta.width, meta.height]).toEqual([600, 450]);
  });

  it('refuses GET with 405 and says to POST', async () => {
    const { randstore, source } = buildHandlers(db, `${cats.url}/cat`);
    const res = await randstore(new Request('http://function/'));
    await source.close();
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
  });

  it('stores 200 concurrent calls as 200 valid rows', async () => {
    await db.query('DELETE FROM cats');
    // What is under test is 200 concurrent INSERTs; drawing 200 cats at once on two busy cores
    // can take the cat source longer than the usual 5 s.
    const { randstore, source } = buildHandlers(db, `${cats.url}/cat`, { sourceTimeoutMs: 60_000 });
    const answers = await Promise.all(Array.from({ length: 200 }, () => randstore(post())));
    await source.close();
    expect(answers.map((r) => r.status)).toEqual(Array(200).fill(200));
    const ids = new Set(await Promise.all(answers.map(async (r) => ((await r.json()) as StoredAnswer).id)));
    expect(ids.size).toBe(200);
    const rows = await db.query<Row[]>('SELECT * FROM cats');
    expect(rows).toHaveLength(200);
    for (const r of rows) {
      const image = decodeFromStorage(r.image, r.encoding);
      expect(createHash('sha256').update(image).digest('hex')).toBe(r.sha256);
      expect(image.byteLength).toBe(r.original_bytes);
    }
  });
});
