import { createHash } from 'node:crypto';
import type { StorageEncoding, StoredAnswer } from '../../contract/functions.ts';
import { encodeForStorage } from '../lib/codec.ts';
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

/** randstore: fetch a random cat, check it is an image, encode it, INSERT it. */
export function createRandstore(deps: RandstoreDeps): Handler {
  const { metrics } = deps;
  return handle(deps, async (request, call) => {
    allowMethods(request, ['POST']);
    const start = performance.now();
    const fetched = metrics
      ? await timed(metrics.sourceFetchSeconds, {}, () => deps.source.fetchCat(call))
      : await deps.source.fetchCat(call);
    const image = await checkImage(fetched.bytes, deps.limits);
    const sha256 = createHash('sha256').update(image.bytes).digest('hex');
    const data = encodeForStorage(image.bytes, deps.encoding);
    const id = await deps.cats.insert(
      {
        sourceUrl: fetched.url,
        mime: image.mime,
        width: image.width,
        height: image.height,
        originalBytes: image.bytes.byteLength,
        sha256,
        encoding: deps.encoding,
        data,
      },
      call,
    );
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
    // 200, not 201: OpenFaaS's stock scaling alert counts code="200" only, and `faas-cli
    // invoke` fails on anything but 2xx.
    return json(answer, 200);
  });
}
