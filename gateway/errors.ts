import type { IncomingMessage } from 'node:http';

/**
 * An answer the gateway gives itself, with a status and a stable code (the same JSON shape
 * as the functions' errors). Routes throw it; one handler turns it into the response.
 */
export class GatewayError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Reads a small JSON body; too large → 413, not JSON → 400. An empty body is null. */
export async function readJson(req: IncomingMessage, limit = 64 * 1024): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).byteLength;
    if (size > limit)
      throw new GatewayError(413, 'BODY_TOO_LARGE', `the body must be at most ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null');
  } catch {
    throw new GatewayError(400, 'BAD_REQUEST', 'the body must be JSON');
  }
}
