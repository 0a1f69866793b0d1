import type { FormatEnum, Metadata } from 'sharp';
import { AppError } from './errors.ts';

type Sharp = typeof import('sharp')['default'];
let library: Promise<Sharp> | undefined;

/**
 * sharp, loaded on first use: libvips is about 30 MiB of a process's memory, and randshow and
 * dbstats replicas, which run the same server, never decode an image. randstore's composition
 * awaits it before the replica listens, so a missing library still stops the start.
 */
export function loadImageLibrary(): Promise<Sharp> {
  library ??= import('sharp').then(({ default: sharp }) => {
    // libvips keeps recent operations and their pixels (up to 50 MB) for a picture seen again:
    // randstore sees each cat once, so the cache only held memory (two minutes at 25 stores/s
    // grew a replica's RSS by 44 MiB with it, by 35 MiB without).
    sharp.cache(false);
    return sharp;
  });
  return library;
}

/** Formats randstore accepts, keyed by sharp's name, with the MIME type served later. */
const MIME_BY_FORMAT: Record<string, string> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  avif: 'image/avif',
};

export interface ImageLimits {
  maxBytes: number;
  maxDimension: number;
  oversize: 'reject' | 'resize';
}

export interface CheckedImage {
  bytes: Buffer;
  mime: string;
  width: number;
  height: number;
  /** True when the image was scaled down to fit the limits. */
  resized: boolean;
}

interface Described {
  format: string;
  width: number;
  height: number;
}

async function describe(bytes: Buffer): Promise<Described> {
  const sharp = await loadImageLibrary();
  let meta: Metadata;
  try {
    meta = await sharp(bytes).metadata();
  } catch (err) {
    throw new AppError('SOURCE_NOT_IMAGE', 'the cat source did not send an image', { cause: err });
  }
  // sharp reports AVIF as heif with the av1 codec.
  const format = meta.format === 'heif' && meta.compression === 'av1' ? 'avif' : (meta.format ?? '');
  if (!(format in MIME_BY_FORMAT) || !meta.width || !meta.height) {
    throw new AppError(
      'SOURCE_NOT_IMAGE',
      `the cat source sent ${format || 'an unknown format'}, not a raster image`,
    );
  }
  // Decoding every pixel is the only way to notice a truncated or corrupt body: headers alone
  // parse fine. Decoded into a thumbnail, not measured: stats() cost 7× as much per cat
  // (79 against 566 images/s on the local cat source's pool), and a thumbnail needs no
  // full-size pixel buffer (a JPEG even decodes at a fraction of its size, still reading
  // every byte of it).
  try {
    await sharp(bytes, { failOn: 'truncated', animated: false })
      .resize({ width: 64, height: 64, fit: 'inside' })
      .raw()
      .toBuffer();
  } catch (err) {
    throw new AppError(
      'SOURCE_NOT_IMAGE',
      `the ${format} image from the cat source is truncated or corrupt`,
      {
        cause: err,
      },
    );
  }
  // The size as shown: an EXIF orientation of 5–8 turns the stored pixels a quarter.
  const shown = meta.autoOrient ?? { width: meta.width, height: meta.height };
  return { format, width: shown.width, height: shown.height };
}

/**
 * Decides what the fetched bytes are — never trusting the remote Content-Type — and
 * enforces the size limits, scaling down when configured to.
 */
export async function checkImage(bytes: Buffer, limits: ImageLimits): Promise<CheckedImage> {
  const first = await describe(bytes);
  const fits = (b: Buffer, d: Described) =>
    b.byteLength <= limits.maxBytes && d.width <= limits.maxDimension && d.height <= limits.maxDimension;
  const result = (b: Buffer, d: Described, resized: boolean): CheckedImage => ({
    bytes: b,
    mime: MIME_BY_FORMAT[d.format] as string,
    width: d.width,
    height: d.height,
    resized,
  });
  if (fits(bytes, first)) return result(bytes, first, false);

  const what = `${first.width}×${first.height}, ${bytes.byteLength} bytes`;
  const limit = `${limits.maxDimension}×${limits.maxDimension}, ${limits.maxBytes} bytes`;
  if (limits.oversize === 'reject') {
    throw new AppError('IMAGE_TOO_LARGE', `the cat is ${what}; the limit is ${limit}`);
  }
  // Turned upright first: the re-encoded image keeps no EXIF orientation to be shown by.
  const sharp = await loadImageLibrary();
  const smaller = await sharp(bytes, { animated: false })
    .rotate()
    .resize({
      width: limits.maxDimension,
      height: limits.maxDimension,
      fit: 'inside',
      withoutEnlargement: true,
    })
    .toFormat(first.format as keyof FormatEnum)
    .toBuffer();
  const second = await describe(smaller);
  if (!fits(smaller, second)) {
    throw new AppError(
      'IMAGE_TOO_LARGE',
      `the cat is ${what} and still too large scaled down; the limit is ${limit}`,
    );
  }
  return result(smaller, second, true);
}
