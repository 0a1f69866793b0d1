import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { type CatSpec, MIME } from './draw.ts';

/** Ways the local cat source can be told to misbehave, per request (`?fault=`) or for every request. */
export const FAULTS = [
  'none',
  'html',
  'not-image',
  '404',
  '500',
  'slow',
  'drip',
  'huge',
  'truncated',
  'cut',
  'redirect-loop',
  'redirect-file',
  '429',
] as const;
export type Fault = (typeof FAULTS)[number];

/** What a misbehaving answer needs: where to write, the cat it would have sent, and the source's own means. */
export interface Misbehaving {
  res: ServerResponse;
  url: URL;
  spec: CatSpec;
  cat(spec: CatSpec): Promise<Buffer>;
  /** A timer the source clears when it closes. */
  later(ms: number, fn: () => void): NodeJS.Timeout;
  /** Answers the same request again, well this time. */
  serveWell(url: URL): Promise<void>;
  slowMs: number;
  hugeBytes: number;
}

const hop = (url: URL) => Number(url.searchParams.get('hop') ?? 0) || 0;

/** Each fault's answer, written on the raw response (the slow ones pace their bytes). */
export const MISBEHAVIOURS: Record<Exclude<Fault, 'none'>, (m: Misbehaving) => void | Promise<void>> = {
  html: ({ res }) => {
    res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><p>Sorry, no cats today.</p>');
  },
  // Lies about its type: randstore must decide by the bytes, not the header.
  'not-image': ({ res }) => {
    res.writeHead(200, { 'content-type': 'image/jpeg' }).end(randomBytes(4096));
  },
  '404': ({ res }) => void res.writeHead(404, { 'content-type': 'text/plain' }).end('fault 404'),
  '500': ({ res }) => void res.writeHead(500, { 'content-type': 'text/plain' }).end('fault 500'),
  // Rate limited, as public cat APIs answer a client that calls too often.
  '429': ({ res }) =>
    void res.writeHead(429, { 'content-type': 'text/plain', 'retry-after': '30' }).end('slow down'),
  // A redirect off the web: a client must not follow it to a local file.
  'redirect-file': ({ res }) => void res.writeHead(302, { location: 'file:///etc/passwd' }).end(),
  // Promises the whole cat, sends a sixteenth of it and closes the connection.
  cut: async ({ res, spec, cat }) => {
    const bytes = await cat(spec);
    res.writeHead(200, { 'content-type': MIME[spec.format], 'content-length': bytes.byteLength });
    res.write(bytes.subarray(0, Math.floor(bytes.byteLength / 16)), () => res.socket?.destroy());
  },
  // A new URL each hop, so only a redirect limit stops the client.
  'redirect-loop': ({ res, url }) => {
    const next = new URL(url);
    next.searchParams.set('hop', String(hop(url) + 1));
    res.writeHead(302, { location: `${next.pathname}${next.search}` }).end();
  },
  slow: ({ res, url, later, serveWell, slowMs }) => {
    const well = new URL(url);
    well.searchParams.set('fault', 'none');
    const timer = later(slowMs, () => void serveWell(well));
    res.once('close', () => clearTimeout(timer));
  },
  drip: async ({ res, spec, cat, later, slowMs }) => {
    const bytes = await cat(spec);
    res.writeHead(200, { 'content-type': MIME[spec.format], 'content-length': bytes.byteLength });
    let offset = 0;
    const step = () => {
      if (res.destroyed) return;
      res.write(bytes.subarray(offset, offset + 64));
      offset += 64;
      if (offset >= bytes.byteLength) res.end();
      else later(slowMs / 10, step);
    };
    step();
  },
  huge: ({ res, hugeBytes }) => {
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': hugeBytes });
    const chunk = Buffer.alloc(64 * 1024, 0x42);
    let left = hugeBytes;
    const pump = () => {
      while (left > 0 && !res.destroyed) {
        const n = Math.min(left, chunk.byteLength);
        left -= n;
        if (!res.write(chunk.subarray(0, n))) return void res.once('drain', pump);
      }
      if (!res.destroyed) res.end();
    };
    pump();
  },
  truncated: async ({ res, spec, cat }) => {
    const bytes = await cat(spec);
    const half = bytes.subarray(0, Math.floor(bytes.byteLength / 2));
    res.writeHead(200, { 'content-type': MIME[spec.format], 'content-length': half.byteLength }).end(half);
  },
};
