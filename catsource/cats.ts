import { randomInt } from 'node:crypto';
import { CAT_FORMATS, type CatFormat, type CatSpec, drawCat } from './draw.ts';

const SIZES: ReadonlyArray<readonly [number, number]> = [
  [160, 120],
  [320, 240],
  [400, 400],
  [480, 360],
  [640, 480],
  [800, 600],
];
const VARIANTS = 48;
const CACHE_LIMIT = 256;

function intParam(url: URL, name: string, min: number, max: number): number | undefined {
  const raw = url.searchParams.get(name);
  if (raw === null) return undefined;
  const n = Number(raw);
  return Number.isInteger(n) && n >= min && n <= max ? n : undefined;
}

/** The cat a request asks for (`?format=&width=&height=&seed=`), random where it does not say. */
export function catSpecFrom(url: URL): CatSpec {
  const [w, h] = SIZES[randomInt(SIZES.length)] as readonly [number, number];
  const format = url.searchParams.get('format');
  return {
    seed: intParam(url, 'seed', 0, 2 ** 31) ?? randomInt(VARIANTS),
    width: intParam(url, 'width', 1, 10_000) ?? w,
    height: intParam(url, 'height', 1, 10_000) ?? h,
    format: CAT_FORMATS.includes(format as CatFormat)
      ? (format as CatFormat)
      : (CAT_FORMATS[randomInt(3)] as CatFormat),
  };
}

/** A cat drawn once, kept in memory. */
export interface PooledCat {
  spec: CatSpec;
  bytes: Buffer;
}

/**
 * The cats served to a request that names nothing: every size in every format, with seeds
 * spread over the variants, drawn once at start (in parallel, on sharp's threads) so that
 * `GET /cat` is a copy from memory, never a drawing.
 */
export async function drawPool(seedsPerShape = 4): Promise<PooledCat[]> {
  const specs = SIZES.flatMap(([width, height], i) =>
    CAT_FORMATS.flatMap((format, j) =>
      Array.from({ length: seedsPerShape }, (_, k) => ({
        seed: (i * CAT_FORMATS.length * seedsPerShape + j * seedsPerShape + k) % VARIANTS,
        width,
        height,
        format,
      })),
    ),
  );
  return Promise.all(specs.map(async (spec) => ({ spec, bytes: await drawCat(spec) })));
}

/**
 * A picker over the pool, grouped by format once: for a request that names no seed and no
 * size, a random cat (of the format asked for, if one is).
 */
export function poolPicker(pool: readonly PooledCat[]): (url: URL) => PooledCat | undefined {
  const byFormat = new Map<string, PooledCat[]>();
  for (const cat of pool) byFormat.set(cat.spec.format, [...(byFormat.get(cat.spec.format) ?? []), cat]);
  const any = (cats: readonly PooledCat[] | undefined) =>
    cats?.length ? cats[randomInt(cats.length)] : undefined;
  return (url) => {
    if (url.searchParams.has('seed') || url.searchParams.has('width') || url.searchParams.has('height'))
      return undefined;
    const format = url.searchParams.get('format');
    return any(format === null ? pool : byFormat.get(format));
  };
}

/** Draws cats on demand and keeps the last ones drawn (a failed drawing is not kept). */
export function drawnCats(limit = CACHE_LIMIT): ((spec: CatSpec) => Promise<Buffer>) & { drawn: number } {
  const cache = new Map<string, Promise<Buffer>>();
  const cat = (spec: CatSpec) => {
    const key = `${spec.seed}:${spec.format}:${spec.width}x${spec.height}`;
    let entry = cache.get(key);
    if (!entry) {
      if (cache.size >= limit) cache.delete(cache.keys().next().value as string);
      cat.drawn++;
      entry = drawCat(spec);
      entry.catch(() => cache.delete(key));
      cache.set(key, entry);
    }
    return entry;
  };
  cat.drawn = 0;
  return cat;
}
