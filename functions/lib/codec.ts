import type { StorageEncoding } from '../../contract/functions.ts';

/**
 * The talk's "laborious" storage format: standard base64 of the image bytes, then
 * percent-escaped exactly as encodeURIComponent does (`+ / =` → `%2B %2F %3D`).
 * Both steps run in native code (Buffer and the URI functions); no per-byte JS loop.
 */
export function escapeBase64(bytes: Uint8Array): string {
  return encodeURIComponent(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'));
}

/** Inverse of escapeBase64. Throws a URIError on a malformed escape. */
export function unescapeBase64(text: string): Buffer {
  return Buffer.from(decodeURIComponent(text), 'base64');
}

/** The bytes written to the LONGBLOB column for an image under an encoding. */
export function encodeForStorage(image: Buffer, encoding: StorageEncoding): Buffer {
  return encoding === 'raw' ? image : Buffer.from(escapeBase64(image), 'latin1');
}

/** The image bytes back from what the LONGBLOB holds. */
export function decodeFromStorage(stored: Buffer, encoding: StorageEncoding): Buffer {
  return encoding === 'raw' ? stored : unescapeBase64(stored.toString('latin1'));
}
