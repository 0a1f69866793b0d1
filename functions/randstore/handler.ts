import { createHash } from 'node:crypto';
import { encodeForStorage } from '../lib/codec.ts';
import type { StorageEncoding } from '../lib/config.ts';
import type { CatRepository } from '../lib/db/cats.ts';
import { allowMethods, elapsedMs, type Handler, type HandlerContext, handle, json } from '../lib/http.ts';
import { checkImage, type ImageLimits } from '../lib/image.ts';
import { timed } from '../lib/metrics.ts';
import type { CatSource } from '../lib/source.ts';

export interface RandstoreDeps extends HandlerContext {
  cats: Pick<CatRepository, 'insert'>;
  source: CatSource;
  encoding: StorageEncoding;
  limits: ImageLimits;
}

/**
 * Body of randstore's answer. The status is 200, not 201: OpenFaaS's stock scaling alert counts
 * `code="200"` only, and `faas-cli invoke` treats anything but 200/202 as a failure.
 */
export interface StoredAnswer {
  id: number;
  bytes: number;
  storedBytes: number;
  mime: string;
  width: number;
  height: number;
  sha256: string;
  encoding: StorageEncoding;
  resized: boolean;
  ms: number;
}

/** randstore: fetch a random cat, check it is an image, encode it, INSERT it. */
export function createRandstore(deps: RandstoreDeps): Handler {
  const { metrics } = deps;
  return handle(deps, async (request) => {
    allowMethods(request, ['POST']);
    const start = performance.now();
    const fetched = metrics
      ? await timed(metrics.sourceFetchSeconds, {}, () => deps.source.fetchCat())
      : await deps.source.fetchCat();
    const image = await checkImage(fetched.bytes, deps.limits);
    const sha256 = createHash('sha256').update(image.bytes).digest('hex');
    const data = encodeForStorage(image.bytes, deps.encoding);
    const id = await deps.cats.insert({
      sourceUrl: fetched.url,
      mime: image.mime,
      width: image.width,
      height: image.height,
      originalBytes: image.bytes.byteLength,
      sha256,
      encoding: deps.encoding,
      data,
    });
    metrics?.imagesStored.inc({ encoding: deps.encoding });
    metrics?.bytesStored.inc({ encoding: deps.encoding, kind: 'original' }, image.bytes.byteLength);
    metrics?.bytesStored.inc({ encoding: deps.encoding, kind: 'stored' }, data.byteLength);
    const answer: StoredAnswer = {
      id,
      bytes: image.bytes.byteLength,
      storedBytes: data.byteLength,
      mime: image.mime,
      width: image.width,
      height: image.height,
      sha256,
      encoding: deps.encoding,
      resized: image.resized,
      ms: elapsedMs(start),
    };
    return json(answer, 200);
  });
}
