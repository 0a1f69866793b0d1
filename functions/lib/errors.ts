import { ERRORS, type ErrorCode, errorBody } from '../../contract/errors.ts';

/**
 * An error a caller must be able to tell apart: a stable `code` from the contract (what
 * clients and the SystemBreaker UI match on), which fixes the HTTP status it maps to.
 */
export class AppError extends Error {
  override readonly name = 'AppError';
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown; headers?: Record<string, string> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.status = ERRORS[code];
    this.headers = options?.headers ?? {};
  }

  readonly headers: Record<string, string>;
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}

/**
 * Turns any thrown value into a response. Only AppErrors reveal their message; anything
 * else is an INTERNAL error whose details stay in the log, not in the response.
 */
export function errorResponse(err: unknown): Response {
  const appError = isAppError(err) ? err : new AppError('INTERNAL', 'internal error', { cause: err });
  return codedResponse(appError.code, appError.message, appError.headers);
}

/** The error answer for a code, as every server of the project gives it: its status, the JSON body, never cached. */
export function codedResponse(
  code: ErrorCode,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return Response.json(errorBody(code, message), {
    status: ERRORS[code],
    headers: { 'cache-control': 'no-store', ...headers },
  });
}
