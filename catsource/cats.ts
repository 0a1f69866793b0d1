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

/** Draws cats on demand and keeps the last ones drawn (a failed drawing is not kept). */
export function drawnCats(limit = CACHE_LIMIT): (spec: CatSpec) => Promise<Buffer> {
  const cache = new Map<string, Promise<Buffer>>();
  return (spec) => {
    const key = `${spec.seed}:${spec.format}:${spec.width}x${spec.height}`;
    let entry = cache.get(key);
    if (!entry) {
      if (cache.size >= limit) cache.delete(cache.keys().next().value as string);
      entry = drawCat(spec);
      entry.catch(() => cache.delete(key));
      cache.set(key, entry);
    }
    return entry;
  };
}
