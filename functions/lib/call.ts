import {
  MAX_REQUEST_TIMEOUT_MS,
  parseRequestTimeout,
  REQUEST_TIMEOUT_HEADER,
} from '../../contract/functions.ts';
import { AppError } from './errors.ts';

/**
 * What bounds the work of one request: a signal that fires when the caller is gone (it closed
 * the connection, or the watchdog or the gateway in front gave up) or when the deadline
 * passes, with an AppError saying which as its reason; and that deadline.
 */
export interface Call {
  readonly signal: AbortSignal;
  /** performance.now() by which the answer is due; Infinity when nothing bounds it. */
  readonly deadline: number;
}

/** A call nothing bounds: work run outside any request (start-up checks, metrics). */
export const UNBOUNDED: Call = { signal: new AbortController().signal, deadline: Number.POSITIVE_INFINITY };

/** The caller's timeout from its header, or undefined; a value that is not a whole number of ms is refused. */
export function requestedTimeoutMs(request: Request): number | undefined {
  const raw = request.headers.get(REQUEST_TIMEOUT_HEADER);
  if (raw === null) return undefined;
  const ms = parseRequestTimeout(raw);
  if (ms === undefined) {
    throw new AppError(
      'BAD_REQUEST',
      `${REQUEST_TIMEOUT_HEADER} must be a whole number of milliseconds from 1 to ${MAX_REQUEST_TIMEOUT_MS}; got ${JSON.stringify(raw.slice(0, 40))}`,
    );
  }
  return ms;
}

/**
 * Starts the bounds of one request: the caller's own timeout (its header) or the function's
 * (the watchdog's exec_timeout), whichever is shorter, and the request's own signal, which the
 * HTTP server fires when the caller's connection closes before the answer. end() releases the
 * timer once the answer is made.
 */
export function startCall(request: Request, functionTimeoutMs?: number): Call & { end(): void } {
  const start = performance.now();
  const asked = requestedTimeoutMs(request);
  const timeoutMs = Math.min(
    asked ?? Number.POSITIVE_INFINITY,
    functionTimeoutMs ?? Number.POSITIVE_INFINITY,
  );
  const controller = new AbortController();
  const onGone = () =>
    controller.abort(new AppError('CLIENT_CLOSED', 'the caller closed the connection before the answer'));
  if (request.signal.aborted) onGone();
  else request.signal.addEventListener('abort', onGone, { once: true });
  const timer = Number.isFinite(timeoutMs)
    ? setTimeout(
        () =>
          controller.abort(
            new AppError(
              'DEADLINE_EXCEEDED',
              `the request's deadline (${timeoutMs} ms) passed before its work finished`,
            ),
          ),
        timeoutMs,
      )
    : undefined;
  timer?.unref();
  return {
    signal: controller.signal,
    deadline: start + timeoutMs,
    end() {
      clearTimeout(timer);
      request.signal.removeEventListener('abort', onGone);
    },
  };
}
