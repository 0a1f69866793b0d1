import { createHash, randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { encodeForStorage } from '../../functions/lib/codec.ts';
import {
  mysqlSettingsFromUrl,
  RANDSHOW_STRATEGIES,
  type RandshowStrategy,
} from '../../functions/lib/config.ts';
import { createCatRepository } from '../../functions/lib/db/cats.ts';
import { createPool } from '../../functions/lib/db/pool.ts';
import { createRandshow } from '../../functions/randshow/handler.ts';
import { percentile, round, sample } from '../stats.ts';

export interface RandshowCell {
  rows: number;
  strategy: RandshowStrategy;
  calls: number;
  p50Ms: number;
  p99Ms: number;
}

/**
 * Fills `cats` up to `rows` with escaped-base64 blobs of about `blobBytes`, quickly:
 * a few distinct images (valid sha256) repeated in multi-row INSERTs.
 */
export async function seedCats(url: string, rows: number, blobBytes: number): Promise<void> {
  const conn = await mysql.createConnection({ uri: url });
  try {
    const [[{ n }]] = (await conn.query('SELECT COUNT(*) AS n FROM cats')) as unknown as [[{ n: number }]];
    const images = Array.from({ length: 16 }, () => randomBytes(Math.floor(blobBytes / 1.42)));
    const values = images.map((img) => [
      'bench://seed',
      'image/png',
      64,
      64,
      img.byteLength,
      encodeForStorage(img, 'escaped-base64').byteLength,
      createHash('sha256').update(img).digest('hex'),
      'escaped-base64',
      encodeForStorage(img, 'escaped-base64'),
    ]);
    const batch = Math.max(1, Math.floor((4 * 1024 * 1024) / blobBytes));
    for (let have = Number(n); have < rows; have += batch) {
      const count = Math.min(batch, rows - have);
      const chunk = Array.from({ length: count }, (_, i) => values[(have + i) % values.length]);
      await conn.query(
        'INSERT INTO cats (source_url, mime, width, height, original_bytes, stored_bytes, sha256, encoding, image) VALUES ?',
        [chunk],
      );
    }
  } finally {
    await conn.end();
  }
}

/** randshow's latency per strategy at a table size, calling the handler as a replica does. */
export async function benchRandshow(url: string, rows: number, budgetMs: number): Promise<RandshowCell[]> {
  const pool = createPool(mysqlSettingsFromUrl(url), {
    connectionLimit: 2,
    connectTimeoutMs: 5000,
    idleTimeoutMs: 60_000,
  });
  const randshow = createRandshow({ cats: createCatRepository(pool), defaultStrategy: 'order-by-rand' });
  const cells: RandshowCell[] = [];
  try {
    for (const strategy of RANDSHOW_STRATEGIES) {
      const call = async () => {
        const res = await randshow(new Request(`http://bench/?format=json&strategy=${strategy}`));
        if (res.status !== 200) throw new Error(`randshow answered ${res.status}: ${await res.text()}`);
        await res.arrayBuffer();
      };
      await call();
      const times = await sample(call, budgetMs, 2000);
      cells.push({
        rows,
        strategy,
        calls: times.length,
        p50Ms: round(percentile(times, 50)),
        p99Ms: round(percentile(times, 99)),
      });
    }
  } finally {
    await pool.end();
  }
  return cells;
}
