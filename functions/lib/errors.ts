/**
 * Errors a caller must be able to tell apart. Each has a stable `code` (what clients
 * and the SystemBreaker UI match on) and the HTTP status it maps to.
 */
export const ERROR_STATUS = {
  BAD_REQUEST: 400,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  BODY_TOO_LARGE: 413,
  NO_CATS: 404,
  NO_SUCH_CAT: 404,
  SOURCE_UNREACHABLE: 502,
  SOURCE_TIMEOUT: 504,
  SOURCE_HTTP_ERROR: 502,
  SOURCE_TOO_LARGE: 502,
  SOURCE_TOO_MANY_REDIRECTS: 502,
  SOURCE_BAD_RESPONSE: 502,
  SOURCE_NOT_IMAGE: 502,
  IMAGE_TOO_LARGE: 502,
  DB_UNAVAILABLE: 503,
  DB_TOO_MANY_CONNECTIONS: 503,
  DB_TIMEOUT: 504,
  DB_SCHEMA_MISSING: 500,
  INTEGRITY_MISMATCH: 500,
  SHUTTING_DOWN: 503,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class AppError extends Error {
  override readonly name = 'AppError';
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown; headers?: Record<string, string> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.status = ERROR_STATUS[code];
    this.headers = options?.headers ?? {};
  }

  readonly headers: Record<string, string>;
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}

/** The JSON body every error response carries. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

/**
 * Turns any thrown value into a response. Only AppErrors reveal their message; anything
 * else is an INTERNAL error whose details stay in the log, not in the response.
 */
export function errorResponse(err: unknown): Response {
  const appError = isAppError(err) ? err : new AppError('INTERNAL', 'internal error', { cause: err });
  const body: ErrorBody = { error: { code: appError.code, message: appError.message } };
  return Response.json(body, {
    status: appError.status,
    headers: { 'cache-control': 'no-store', ...appError.headers },
  });
}
