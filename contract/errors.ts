/**
 * Every error code a caller can see, with the HTTP status it comes with: the functions',
 * the gateway's, and those the load engines give a call that got no answer. Callers (the
 * app, the engines, k6, the fault suite) match on the code, never on the message.
 */
export const ERRORS = {
  // requests the functions or the gateway refuse
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  ORIGIN_NOT_ALLOWED: 403,
  METHOD_NOT_ALLOWED: 405,
  BODY_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  /** The Host header names a host this server does not serve (DNS rebinding, a wrong name). */
  HOST_NOT_ALLOWED: 421,
  /** A /system/logs query that does not parse (faas-provider logs/handler.go answers 422). */
  BAD_LOG_REQUEST: 422,
  // randshow
  NO_CATS: 404,
  NO_SUCH_CAT: 404,
  // randstore's cat source
  SOURCE_UNREACHABLE: 502,
  SOURCE_TIMEOUT: 504,
  SOURCE_HTTP_ERROR: 502,
  SOURCE_TOO_LARGE: 502,
  SOURCE_TOO_MANY_REDIRECTS: 502,
  SOURCE_BAD_RESPONSE: 502,
  /** The cat source answered 429: randstore says 503 and passes its Retry-After on. */
  SOURCE_RATE_LIMITED: 503,
  SOURCE_NOT_IMAGE: 502,
  IMAGE_TOO_LARGE: 502,
  // MySQL
  DB_UNAVAILABLE: 503,
  DB_TOO_MANY_CONNECTIONS: 503,
  DB_TIMEOUT: 504,
  /** More requests already wait for a database connection than can be served before their deadline. */
  DB_QUEUE_FULL: 503,
  DB_SCHEMA_MISSING: 500,
  INTEGRITY_MISMATCH: 500,
  // the function server
  SHUTTING_DOWN: 503,
  /** The request's deadline passed before its work could finish; the work was stopped. */
  DEADLINE_EXCEEDED: 504,
  INTERNAL: 500,
  // the local gateway
  FUNCTION_NOT_FOUND: 404,
  NO_REPLICAS: 503,
  REPLICA_FAILED: 502,
  UPSTREAM_TIMEOUT: 504,
  LOAD_RUNNING: 409,
  LOAD_NOT_RUNNING: 409,
  /** The gateway's queue of asynchronous calls is full. */
  QUEUE_FULL: 429,
  /** The client left before the answer: nobody reads it, the metrics count it (nginx's 499). */
  CLIENT_CLOSED: 499,
} as const;

export type ErrorCode = keyof typeof ERRORS;
export const ERROR_CODES = Object.keys(ERRORS) as ErrorCode[];

/** The JSON body of every error answer. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

export const isErrorCode = (code: unknown): code is ErrorCode =>
  typeof code === 'string' && Object.hasOwn(ERRORS, code);

export function errorBody(code: ErrorCode, message: string): ErrorBody {
  return { error: { code, message } };
}

/** The code of an error body, if the text is one (any code: an older or newer peer may add some). */
export function errorCodeOf(text: string): string | undefined {
  try {
    const code: unknown = (JSON.parse(text) as { error?: { code?: unknown } } | null)?.error?.code;
    return typeof code === 'string' && code !== '' ? code : undefined;
  } catch {
    return undefined;
  }
}
