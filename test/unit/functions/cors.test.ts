import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../functions/lib/config.ts';
import { withCors } from '../../../functions/lib/cors.ts';

const handler = withCors(['https://breaker.example'], async () =>
  Response.json({ ok: true }, { headers: { 'x-cat-id': '7' } }),
);

describe('CORS', () => {
  it('answers a preflight from a configured origin without calling the function', async () => {
    const res = await handler(
      new Request('http://fn/', {
        method: 'OPTIONS',
        headers: { origin: 'https://breaker.example', 'access-control-request-headers': 'authorization' },
      }),
    );
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://breaker.example');
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    expect(res.headers.get('access-control-allow-headers')).toBe('authorization');
  });

  it('lets a configured origin read the answer and its cat headers', async () => {
    const res = await handler(new Request('http://fn/', { headers: { origin: 'https://breaker.example' } }));
    expect(res.headers.get('access-control-allow-origin')).toBe('https://breaker.example');
    expect(res.headers.get('access-control-expose-headers')).toContain('x-cat-id');
    expect(res.headers.get('vary')).toContain('Origin');
  });

  it('grants nothing to an origin that is not configured', async () => {
    const preflight = await handler(
      new Request('http://fn/', { method: 'OPTIONS', headers: { origin: 'https://evil.example' } }),
    );
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const res = await handler(new Request('http://fn/', { headers: { origin: 'https://evil.example' } }));
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('is off by default, and CORS_ORIGINS must list origins', () => {
    expect(parseConfig({}).CORS_ORIGINS).toEqual([]);
    expect(parseConfig({ CORS_ORIGINS: 'https://a.example, http://127.0.0.1:5173' }).CORS_ORIGINS).toEqual([
      'https://a.example',
      'http://127.0.0.1:5173',
    ]);
    expect(() => parseConfig({ CORS_ORIGINS: 'https://a.example/path' })).toThrow(
      /CORS_ORIGINS must be comma-separated origins/,
    );
  });
});
