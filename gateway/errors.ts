import type { Context } from 'hono';
import { ERRORS, type ErrorCode, errorBody } from '../contract/errors.ts';

/**
 * An answer the gateway gives itself: a code from the contract's table, which fixes its
 * status, and the functions' JSON shape. Routes throw it; one handler turns it into the response.
 */
export class GatewayError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.status = ERRORS[code];
  }
}

export const functionNotFound = (name: string) =>
  new GatewayError('FUNCTION_NOT_FOUND', `no function named ${JSON.stringify(name.slice(0, 100))}`);

/** The JSON error answer for a code. */
export function errorResponse(code: ErrorCode, message: string): Response {
  return Response.json(errorBody(code, message), {
    status: ERRORS[code],
    headers: { 'cache-control': 'no-store' },
  });
}

/** The body of a request as JSON (its size bounded by the route's bodyLimit); not JSON → 400. An empty body is null. */
export async function readJson(c: Context): Promise<unknown> {
  const text = await c.req.text();
  try {
    return JSON.parse(text || 'null');
  } catch {
    throw new GatewayError('BAD_REQUEST', 'the body must be JSON');
  }
}
