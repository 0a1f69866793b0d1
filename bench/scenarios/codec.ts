import { randomBytes } from 'node:crypto';
import { escapeBase64, unescapeBase64 } from '../../functions/lib/codec.ts';
import { round } from '../stats.ts';

export interface CodecResult {
  bytes: number;
  escapedEncodeMiBs: number;
  escapedDecodeMiBs: number;
  bufferEncodeMiBs: number;
  bufferDecodeMiBs: number;
  /** escaped-base64 round trip ÷ Buffer base64 round trip (throughput). */
  roundTripRatio: number;
  storedBytesPerImageByte: number;
}

function throughput(run: () => unknown, bytes: number, budgetMs: number): number {
  for (let i = 0; i < 5; i++) run();
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < budgetMs) {
    run();
    n++;
  }
  return (n * bytes) / (1024 * 1024) / ((performance.now() - start) / 1000);
}

/** Escaped-base64 encode and decode MiB/s against Buffer's own base64, on 1 MiB. */
export function benchCodec(budgetMs = 1000, bytes = 1 << 20): CodecResult {
  const image = randomBytes(bytes);
  const escaped = escapeBase64(image);
  const plain = image.toString('base64');
  const escapedEncode = throughput(() => escapeBase64(image), bytes, budgetMs);
  const escapedDecode = throughput(() => unescapeBase64(escaped), bytes, budgetMs);
  const bufferEncode = throughput(() => image.toString('base64'), bytes, budgetMs);
  const bufferDecode = throughput(() => Buffer.from(plain, 'base64'), bytes, budgetMs);
  const roundTrip = (enc: number, dec: number) => 1 / (1 / enc + 1 / dec);
  return {
    bytes,
    escapedEncodeMiBs: round(escapedEncode, 1),
    escapedDecodeMiBs: round(escapedDecode, 1),
    bufferEncodeMiBs: round(bufferEncode, 1),
    bufferDecodeMiBs: round(bufferDecode, 1),
    roundTripRatio: round(roundTrip(escapedEncode, escapedDecode) / roundTrip(bufferEncode, bufferDecode), 3),
    storedBytesPerImageByte: round(escaped.length / bytes, 4),
  };
}
