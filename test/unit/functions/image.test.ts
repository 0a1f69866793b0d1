import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { drawCat } from '../../../catsource/draw.ts';
import { AppError } from '../../../functions/lib/errors.ts';
import { checkImage, type ImageLimits } from '../../../functions/lib/image.ts';

const roomy: ImageLimits = { maxBytes: 5 * 1024 * 1024, maxDimension: 4096, oversize: 'reject' };

async function rejection(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

describe('image checks', () => {
  it.each([
    ['jpeg', 'image/jpeg'],
    ['png', 'image/png'],
    ['webp', 'image/webp'],
  ] as const)('recognises a %s cat by its bytes and records its size', async (format, mime) => {
    const bytes = await drawCat({ seed: 7, width: 321, height: 123, format });
    const image = await checkImage(bytes, roomy);
    expect(image).toMatchObject({ mime, width: 321, height: 123, resized: false });
    expect(image.bytes).toBe(bytes);
  });

  it('rejects HTML as SOURCE_NOT_IMAGE', async () => {
    const err = await rejection(checkImage(Buffer.from('<!doctype html><p>no cats</p>'), roomy));
    expect(err.code).toBe('SOURCE_NOT_IMAGE');
  });

  it('rejects random bytes as SOURCE_NOT_IMAGE', async () => {
    expect((await rejection(checkImage(randomBytes(5000), roomy))).code).toBe('SOURCE_NOT_IMAGE');
  });

  it('rejects a truncated image although its header parses', async () => {
    const bytes = await drawCat({ seed: 3, width: 400, height: 300, format: 'png' });
    const err = await rejection(checkImage(bytes.subarray(0, bytes.byteLength >> 1), roomy));
    expect(err.code).toBe('SOURCE_NOT_IMAGE');
    expect(err.message).toMatch(/truncated or corrupt/);
  });

  it('rejects SVG: only raster pictures are stored', async () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>');
    expect((await rejection(checkImage(svg, roomy))).code).toBe('SOURCE_NOT_IMAGE');
  });

  it('rejects an image over the dimension limit with IMAGE_TOO_LARGE', async () => {
    const bytes = await drawCat({ seed: 1, width: 600, height: 200, format: 'jpeg' });
    const err = await rejection(checkImage(bytes, { ...roomy, maxDimension: 500 }));
    expect(err.code).toBe('IMAGE_TOO_LARGE');
    expect(err.message).toContain('600×200');
  });

  it('rejects an image over the byte limit with IMAGE_TOO_LARGE', async () => {
    const bytes = await drawCat({ seed: 1, width: 600, height: 400, format: 'png' });
    const err = await rejection(checkImage(bytes, { ...roomy, maxBytes: 1024 }));
    expect(err.code).toBe('IMAGE_TOO_LARGE');
  });

  it('records the size as shown for a photo turned by its EXIF orientation', async () => {
    // A 320×240 sensor image shown as a 240×320 portrait (orientation 6: turn 90° clockwise).
    const bytes = await sharp(await drawCat({ seed: 3, width: 320, height: 240, format: 'jpeg' }))
      .withMetadata({ orientation: 6 })
      .toBuffer();
    expect(await checkImage(bytes, roomy)).toMatchObject({ width: 240, height: 320, resized: false });
    // Scaled down, it is stored upright, with the size it shows.
    const small = await checkImage(bytes, { ...roomy, maxDimension: 160, oversize: 'resize' });
    expect(small).toMatchObject({ width: 120, height: 160, resized: true });
    const meta = await sharp(small.bytes).metadata();
    expect([meta.width, meta.height, meta.orientation ?? 1]).toEqual([120, 160, 1]);
  });

  it('scales an oversized image down when the policy is resize', async () => {
    const bytes = await drawCat({ seed: 1, width: 800, height: 400, format: 'webp' });
    const image = await checkImage(bytes, { ...roomy, maxDimension: 200, oversize: 'resize' });
    expect(image).toMatchObject({ width: 200, height: 100, mime: 'image/webp', resized: true });
  });
});
