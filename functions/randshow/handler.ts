import { createHash } from 'node:crypto';
import { SHOW_FORMATS, type ShownCat, STRATEGIES, type Strategy } from '../../contract/functions.ts';
import { decodeFromStorage } from '../lib/codec.ts';
import type { CatRepository, StoredCat } from '../lib/db/cats.ts';
import { AppError } from '../lib/errors.ts';
import {
  allowMethods,
  choiceParam,
  elapsedMs,
  type Handler,
  type HandlerContext,
  handle,
  ignoreBody,
  json,
} from '../lib/http.ts';
import { catPage } from './page.ts';

export interface RandshowDeps extends HandlerContext {
  cats: Pick<CatRepository, 'pickRandom' | 'findById'>;
  defaultStrategy: Strategy;
}

function describe(cat: StoredCat, strategy: ShownCat['strategy'], ms: number): ShownCat {
  return {
    id: cat.id,
    createdAt: cat.createdAt.toISOString(),
    sourceUrl: cat.sourceUrl,
    mime: cat.mime,
    width: cat.width,
    height: cat.height,
    bytes: cat.originalBytes,
    storedBytes: cat.storedBytes,
    sha256: cat.sha256,
    encoding: cat.encoding,
    strategy,
    ms,
  };
}

/** Decodes a row and proves it is the image that was stored before anything is served. */
function verifiedImage(cat: StoredCat): Buffer {
  let image: Buffer;
  try {
    image = decodeFromStorage(cat.data, cat.encoding);
  } catch (err) {
    throw new AppError('INTEGRITY_MISMATCH', `cat ${cat.id} cannot be decoded as ${cat.encoding}`, {
      cause: err,
    });
  }
  const sha256 = createHash('sha256').update(image).digest('hex');
  if (sha256 !== cat.sha256) {
    throw new AppError(
      'INTEGRITY_MISMATCH',
      `cat ${cat.id} does not match its sha256: it was changed after storing`,
    );
  }
  return image;
}

/** `?id=`: one particular cat instead of a random one. */
function idParam(url: URL): number | undefined {
  const raw = url.searchParams.get('id');
  if (raw === null || raw === '') return undefined;
  if (!/^[1-9]\d{0,15}$/.test(raw)) {
    throw new AppError(
      'BAD_REQUEST',
      `id must be a positive integer; got ${JSON.stringify(raw.slice(0, 40))}`,
    );
  }
  return Number(raw);
}

/** randshow: one random cat of the whole table, served as a page, raw bytes or JSON. */
export function createRandshow(deps: RandshowDeps): Handler {
  return handle(deps, async (request, call) => {
    // POST too: it is what `faas-cli invoke` sends; its body means nothing here.
    allowMethods(request, ['GET', 'HEAD', 'POST']);
    await ignoreBody(request, deps);
    const url = new URL(request.url);
    const strategy = choiceParam(url, 'strategy', STRATEGIES, deps.defaultStrategy);
    const format = choiceParam(url, 'format', SHOW_FORMATS, 'html');
    const id = idParam(url);
    const start = performance.now();
    const cat =
      id === undefined ? await deps.cats.pickRandom(strategy, call) : await deps.cats.findById(id, call);
    if (!cat && id !== undefined) throw new AppError('NO_SUCH_CAT', `there is no cat ${id}`);
    if (!cat) throw new AppError('NO_CATS', 'there are no cats yet: call randstore first');
    const image = verifiedImage(cat);
    const shown = describe(cat, id === undefined ? strategy : 'by-id', elapsedMs(start));
    const headers = {
      'cache-control': 'no-store',
      'x-cat-id': String(cat.id),
      'x-randshow-strategy': strategy,
      'server-timing': `db;dur=${shown.ms}`,
    };
    if (format === 'json') return json(shown, 200, headers);
    if (format === 'raw') {
      return new Response(request.method === 'HEAD' ? null : new Uint8Array(image), {
        headers: { ...headers, 'content-type': cat.mime, 'x-content-type-options': 'nosniff' },
      });
    }
    return new Response(request.method === 'HEAD' ? null : catPage(shown, image), {
      headers: {
        ...headers,
        'content-type': 'text/html; charset=utf-8',
        'x-content-type-options': 'nosniff',
        // The page needs nothing but its own inline style and the data: image.
        'content-security-policy':
          "default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors *",
      },
    });
  });
}
