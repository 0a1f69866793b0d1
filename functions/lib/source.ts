import { Agent, type Dispatcher, interceptors, request } from 'undici';
import { z } from 'zod';
import type { Call } from './call.ts';
import { AppError } from './errors.ts';

export interface CatSourceOptions {
  /** Configured, never taken from a request: no request can make randstore fetch elsewhere. */
  url: string;
  kind: 'image' | 'json';
  connectTimeoutMs: number;
  timeoutMs: number;
  maxBytes: number;
  maxRedirects: number;
}

export interface FetchedCat {
  bytes: Buffer;
  /** The URL the picture was asked for (the JSON-indirected one for kind=json). */
  url: string;
}

export interface CatSource {
  /** Gives up, with the call's reason, when the call ends first. */
  fetchCat(call?: Call): Promise<FetchedCat>;
  close(): Promise<void>;
}

const catApiAnswer = z.array(z.object({ url: z.string() })).min(1);
const JSON_MAX_BYTES = 64 * 1024;

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

const isTimeout = (e: { name?: string; code?: string }) =>
  e.name === 'TimeoutError' || e.name === 'AbortError' || (e.code !== undefined && TIMEOUT_CODES.has(e.code));

function isHttpUrl(s: string): boolean {
  return URL.canParse(s) && ['http:', 'https:'].includes(new URL(s).protocol);
}

/** Maps what undici throws to the error a caller sees. */
function sourceFailure(err: unknown, url: string, timeoutMs: number): AppError {
  if (err instanceof AppError) return err;
  const e = err as { name?: string; code?: string; message?: string };
  // undici refuses a redirect back to a URL it already visited before the count runs out.
  if (e.code === 'UND_ERR_INVALID_ARG' && /redirect loop/i.test(e.message ?? '')) {
    return new AppError('SOURCE_TOO_MANY_REDIRECTS', `the cat source ${url} redirects in a loop`, {
      cause: err,
    });
  }
  // undici's redirect interceptor refuses a Location that is not http(s) (file:, ftp:, …).
  if (e.code === 'UND_ERR_INVALID_ARG' && /protocol/i.test(e.message ?? '')) {
    return new AppError(
      'SOURCE_BAD_RESPONSE',
      `the cat source ${url} redirected to a URL that is not http or https; such redirects are refused`,
      { cause: err },
    );
  }
  if (isTimeout(e)) {
    return new AppError('SOURCE_TIMEOUT', `the cat source ${url} did not answer within ${timeoutMs} ms`, {
      cause: err,
    });
  }
  return new AppError(
    'SOURCE_UNREACHABLE',
    `the cat source ${url} could not be reached (${e.code ?? e.message})`,
    {
      cause: err,
    },
  );
}

/**
 * The body, up to `max` bytes. A connection that closes before the body is whole is the
 * source's bad answer, not an unreachable source: it was reached, and said how much it would send.
 */
async function readCapped(
  body: Dispatcher.ResponseData['body'],
  max: number,
  url: string,
  declared: number | undefined,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of body) {
      total += (chunk as Buffer).byteLength;
      if (total > max) {
        body.destroy();
        throw new AppError('SOURCE_TOO_LARGE', `the cat source ${url} sent more than ${max} bytes`);
      }
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    if (err instanceof AppError || isTimeout(err as { name?: string; code?: string })) throw err;
    throw new AppError(
      'SOURCE_BAD_RESPONSE',
      `the cat source ${url} closed the connection after ${total} of ${declared ?? 'an unannounced number of'} bytes`,
      { cause: err },
    );
  }
  return Buffer.concat(chunks, total);
}

export function createCatSource(options: CatSourceOptions): CatSource {
  const agent = new Agent({
    connect: { timeout: options.connectTimeoutMs },
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
  });
  const dispatcher = agent.compose(interceptors.redirect({ maxRedirections: options.maxRedirects }));

  async function get(url: string, accept: string, max: number, signal: AbortSignal): Promise<Buffer> {
    const res = await request(url, {
      dispatcher,
      signal,
      headers: { accept, 'user-agent': 'systembreaker-randstore' },
    });
    if (res.statusCode >= 300 && res.statusCode < 400) {
      await res.body.dump();
      throw new AppError(
        'SOURCE_TOO_MANY_REDIRECTS',
        `the cat source ${url} redirected more than ${options.maxRedirects} times`,
      );
    }
    if (res.statusCode === 429) {
      await res.body.dump();
      const retryAfter = res.headers['retry-after'];
      const after = typeof retryAfter === 'string' ? retryAfter : undefined;
      throw new AppError(
        'SOURCE_RATE_LIMITED',
        `the cat source ${url} is limiting its rate (HTTP 429)${after ? `; it asks to retry after ${after}` : ''}`,
        after ? { headers: { 'retry-after': after } } : undefined,
      );
    }
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new AppError('SOURCE_HTTP_ERROR', `the cat source ${url} answered HTTP ${res.statusCode}`);
    }
    const length = res.headers['content-length'];
    const declared = typeof length === 'string' && /^\d+$/.test(length) ? Number(length) : undefined;
    if (declared !== undefined && declared > max) {
      res.body.destroy();
      throw new AppError(
        'SOURCE_TOO_LARGE',
        `the cat source ${url} announced ${declared} bytes; the limit is ${max}`,
      );
    }
    return readCapped(res.body, max, url, declared);
  }

  async function resolveImageUrl(signal: AbortSignal): Promise<string> {
    if (options.kind === 'image') return options.url;
    const text = (await get(options.url, 'application/json', JSON_MAX_BYTES, signal)).toString('utf8');
    let parsed: z.infer<typeof catApiAnswer>;
    try {
      parsed = catApiAnswer.parse(JSON.parse(text));
    } catch {
      throw new AppError('SOURCE_BAD_RESPONSE', `the cat source ${options.url} did not answer [{"url": …}]`);
    }
    const url = parsed[0]?.url ?? '';
    if (!isHttpUrl(url)) {
      throw new AppError('SOURCE_BAD_RESPONSE', `the cat source ${options.url} pointed at a non-http URL`);
    }
    return url;
  }

  return {
    async fetchCat(call) {
      // One deadline for the whole fetch: a source that drips its body slowly cannot hold a replica.
      const timeout = AbortSignal.timeout(options.timeoutMs);
      const signal = call ? AbortSignal.any([timeout, call.signal]) : timeout;
      let url = options.url;
      try {
        url = await resolveImageUrl(signal);
        const bytes = await get(url, 'image/*', options.maxBytes, signal);
        return { bytes, url };
      } catch (err) {
        if (call?.signal.aborted && !timeout.aborted) throw call.signal.reason;
        throw sourceFailure(err, url, options.timeoutMs);
      }
    },
    close: () => agent.close(),
  };
}
