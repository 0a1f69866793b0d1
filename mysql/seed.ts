import { createHash, randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { encodeForStorage } from '../functions/lib/codec.ts';

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
