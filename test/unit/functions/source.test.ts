import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CatSourceServer, startCatSource } from '../../../catsource/server.ts';
import { AppError } from '../../../functions/lib/errors.ts';
import { type CatSourceOptions, createCatSource } from '../../../functions/lib/source.ts';

let cats: CatSourceServer;
beforeAll(async () => {
  cats = await startCatSource({ slowMs: 2_000, hugeBytes: 3 * 1024 * 1024 });
});
afterAll(() => cats.close());

function source(path: string, overrides: Partial<CatSourceOptions> = {}) {
  return createCatSource({
    url: `${cats.url}${path}`,
    kind: 'image',
    connectTimeoutMs: 1000,
    timeoutMs: 1000,
    maxBytes: 1024 * 1024,
    maxRedirects: 3,
    ...overrides,
  });
}

async function failure(path: string, overrides: Partial<CatSourceOptions> = {}): Promise<AppError> {
  const s = source(path, overrides);
  try {
    await s.fetchCat();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  } finally {
    await s.close();
  }
  throw new Error(`fetching ${path} succeeded`);
}

describe('cat source client', () => {
  it('fetches the bytes of a cat from the configured URL', async () => {
    const s = source('/cat?format=png&width=50&height=40');
    const cat = await s.fetchCat();
    await s.close();
    expect(cat.url).toBe(`${cats.url}/cat?format=png&width=50&height=40`);
    expect(cat.bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
  });

  it('follows TheCatAPI-style JSON indirection to the picture', async () => {
    const s = source('/v1/images/search?format=jpeg', { kind: 'json' });
    const cat = await s.fetchCat();
    await s.close();
    expect(cat.url).toMatch(/\/cat\?format=jpeg$/);
    expect(cat.bytes[0]).toBe(0xff);
  });

  it.each([
    ['/cat?fault=404', 'SOURCE_HTTP_ERROR', /HTTP 404/],
    ['/cat?fault=500', 'SOURCE_HTTP_ERROR', /HTTP 500/],
    ['/cat?fault=redirect-loop', 'SOURCE_TOO_MANY_REDIRECTS', /more than 3 times/],
    ['/cat?fault=slow', 'SOURCE_TIMEOUT', /within 1000 ms/],
    ['/cat?fault=drip', 'SOURCE_TIMEOUT', /within 1000 ms/],
    ['/cat?fault=huge', 'SOURCE_TOO_LARGE', /limit is 1048576/],
    [
      '/cat?fault=cut&width=400&height=400',
      'SOURCE_BAD_RESPONSE',
      /closed the connection after \d+ of \d+ bytes/,
    ],
    ['/cat?fault=redirect-file', 'SOURCE_BAD_RESPONSE', /redirected to a URL that is not http or https/],
  ])('%s fails with %s', async (path, code, message) => {
    const err = await failure(path);
    expect(err.code).toBe(code);
    expect(err.message).toMatch(message);
  });

  it('passes a rate-limiting source’s Retry-After on with SOURCE_RATE_LIMITED (503)', async () => {
    const err = await failure('/cat?fault=429');
    expect(err).toMatchObject({ code: 'SOURCE_RATE_LIMITED', status: 503, headers: { 'retry-after': '30' } });
    expect(err.message).toContain('retry after 30');
  });

  it('stops reading a body without Content-Length once it passes the limit', async () => {
    const err = await failure('/cat?format=png&width=2000&height=2000', { maxBytes: 2048 });
    expect(err.code).toBe('SOURCE_TOO_LARGE');
  });

  it('reports a source that does not listen as SOURCE_UNREACHABLE', async () => {
    const s = createCatSource({
      url: 'http://127.0.0.1:9/cat',
      kind: 'image',
      connectTimeoutMs: 1000,
      timeoutMs: 1000,
      maxBytes: 1024,
      maxRedirects: 0,
    });
    await expect(s.fetchCat()).rejects.toMatchObject({ code: 'SOURCE_UNREACHABLE' });
    await s.close();
  });

  it('rejects a JSON answer that is not [{url}] as SOURCE_BAD_RESPONSE', async () => {
    const err = await failure('/cat?format=png', { kind: 'json' });
    expect(err.code).toBe('SOURCE_BAD_RESPONSE');
  });
});
