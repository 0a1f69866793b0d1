import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  decodeFromStorage,
  encodeForStorage,
  escapeBase64,
  unescapeBase64,
} from '../../../functions/lib/codec.ts';

const LENGTHS = [...Array.from({ length: 70 }, (_, i) => i), 255, 256, 257, 1000, 4097, 65_535, 1 << 20];

describe('escaped base64', () => {
  it.each(LENGTHS)('round-trips %i random bytes', (n) => {
    const bytes = randomBytes(n);
    expect(unescapeBase64(escapeBase64(bytes)).equals(bytes)).toBe(true);
  });

  it('is base64 with + / = percent-escaped exactly as encodeURIComponent does', () => {
    const bytes = Buffer.from([0xfb, 0xff, 0xbf, 0xfe]); // base64 "+/+//g==" hits all three
    expect(bytes.toString('base64')).toBe('+/+//g==');
    expect(escapeBase64(bytes)).toBe('%2B%2F%2B%2F%2Fg%3D%3D');
  });

  it('contains only letters, digits and %XX escapes', () => {
    const text = escapeBase64(randomBytes(10_000));
    expect(text).toMatch(/^(?:[A-Za-z0-9]|%2B|%2F|%3D)*$/);
  });

  it('round-trips a subarray view without leaking the surrounding buffer', () => {
    const whole = randomBytes(100);
    const view = whole.subarray(10, 20);
    expect(unescapeBase64(escapeBase64(view)).equals(Buffer.from(view))).toBe(true);
  });

  it('rejects a malformed escape', () => {
    expect(() => unescapeBase64('abc%2')).toThrow(URIError);
  });
});

describe('storage encodings', () => {
  it('stores raw bytes unchanged', () => {
    const bytes = randomBytes(333);
    expect(encodeForStorage(bytes, 'raw')).toBe(bytes);
    expect(decodeFromStorage(bytes, 'raw')).toBe(bytes);
  });

  it('stores escaped-base64 as ASCII text that decodes back', () => {
    const bytes = randomBytes(3000);
    const stored = encodeForStorage(bytes, 'escaped-base64');
    expect(stored.toString('latin1')).toBe(escapeBase64(bytes));
    expect(decodeFromStorage(stored, 'escaped-base64').equals(bytes)).toBe(true);
    // ≈ 4/3 for base64, plus 2 extra bytes for each + and / (1/32 of the symbols).
    expect(stored.byteLength / bytes.byteLength).toBeGreaterThan(1.33);
    expect(stored.byteLength / bytes.byteLength).toBeLessThan(1.5);
  });
});
