import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CatSourceServer, startCatSource } from '../../catsource/server.ts';

let cats: CatSourceServer;
beforeAll(async () => {
  cats = await startCatSource();
});
afterAll(() => cats.close());

const health = async () =>
  (await (await fetch(`${cats.url}/_/health`)).json()) as { served: number; pooled: number; drawn: number };

describe('the local cat source', () => {
  it('answers a request that names nothing from the cats drawn at start: every format, many sizes, no drawing', async () => {
    const formats = new Set<string>();
    const sizes = new Set<string>();
    for (let i = 0; i < 120; i++) {
      const res = await fetch(`${cats.url}/cat`);
      expect(res.status).toBe(200);
      const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
      formats.add(`${res.headers.get('content-type')} ${meta.format}`);
      sizes.add(`${meta.width}x${meta.height}`);
    }
    expect([...formats].sort()).toEqual(['image/jpeg jpeg', 'image/png png', 'image/webp webp']);
    expect(sizes.size).toBeGreaterThanOrEqual(5);
    expect(await health()).toMatchObject({ served: 120, pooled: 72, drawn: 0 });
  });

  it('keeps to a format asked for, still from the pool', async () => {
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`${cats.url}/cat?format=webp`);
      expect(res.headers.get('content-type')).toBe('image/webp');
      await res.arrayBuffer();
    }
    expect((await health()).drawn).toBe(0);
  });

  it('draws a cat whose seed or size is named, once, and keeps it', async () => {
    const before = (await health()).drawn;
    const url = `${cats.url}/cat?seed=7&width=123&height=77&format=png`;
    const first = Buffer.from(await (await fetch(url)).arrayBuffer());
    const again = Buffer.from(await (await fetch(url)).arrayBuffer());
    expect(again.equals(first)).toBe(true);
    expect(await sharp(first).metadata()).toMatchObject({ format: 'png', width: 123, height: 77 });
    expect((await health()).drawn).toBe(before + 1);
  });

  it('misbehaves on a pooled cat as asked, without drawing it again', async () => {
    const res = await fetch(`${cats.url}/cat?fault=truncated`);
    const half = Buffer.from(await res.arrayBuffer());
    expect(res.status).toBe(200);
    await expect(sharp(half, { failOn: 'truncated' }).stats()).rejects.toThrow();
    expect((await health()).drawn).toBe(1); // only the named one of the test before
  });
});
