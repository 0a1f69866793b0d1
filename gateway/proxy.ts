import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { ERRORS, type ErrorCode, errorBody } from '../contract/errors.ts';
import { parseRequestTimeout, REQUEST_TIMEOUT_HEADER } from '../contract/functions.ts';
import type { Replica } from './replica.ts';

/** Headers that belong to one connection and must not be forwarded (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'host',
]);

/** The headers a proxy passes on: all but the hop-by-hop ones (and Host, which the next hop sets). */
export function forwardable(
  headers: IncomingMessage['headers'] | Record<string, string | string[] | undefined>,
) {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}

export interface ProxyResult {
  status: number;
  /** Set when the gateway itself answered an error (no reply from the replica). */
  errorCode?: ErrorCode;
  /** The replica refused the connection: nothing was sent, another replica may take the request. */
  refused?: boolean;
}

/**
 * The caller's timeout as the replica should see it: the gateway's own, or the caller's when
 * that is shorter. A value that is not a number goes on as it came, for the function to refuse.
 */
function timeoutFor(asked: string | string[] | undefined, gatewayMs: number): string {
  if (typeof asked !== 'string') return String(gatewayMs);
  const ms = parseRequestTimeout(asked);
  return ms === undefined ? asked : String(Math.min(ms, gatewayMs));
}

/** Answers an error the gateway gives itself on the raw response (or cuts it, once headers went out). */
export function sendError(res: ServerResponse, code: ErrorCode, message: string): ProxyResult {
  const status = ERRORS[code];
  if (!res.headersSent) {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(errorBody(code, message)));
  } else {
    res.destroy();
  }
  return { status, errorCode: code };
}

/**
 * Streams a replica's answer to the caller; a failure on either side ends both. Not
 * stream.pipeline: at its end it aborts an AbortController of its own, and the DOMException
 * that makes cost the gateway a few per cent of its time on small answers.
 */
function relay(body: Readable, res: ServerResponse): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (err: Error) => {
      body.destroy();
      res.destroy();
      reject(err);
    };
    body.once('error', fail);
    res.once('error', fail);
    res.once('finish', resolve);
    res.once('close', () => {
      if (!res.writableFinished)
        fail(Object.assign(new Error('the caller went away'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
    });
    body.pipe(res);
  });
}

/** Forwards one request to a replica and streams its answer back. */
export async function forward(
  req: IncomingMessage,
  res: ServerResponse,
  replica: Replica,
  path: string,
  timeoutMs: number,
): Promise<ProxyResult> {
  const dispatcher = replica.dispatcher;
  if (!dispatcher) return sendError(res, 'REPLICA_FAILED', `replica ${replica.id} is not ready`);
  // undici takes an EventEmitter as the signal: it costs less a call than an AbortController,
  // whose abort (with the DOMException it makes) this path would otherwise pay on every call.
  const abort = new EventEmitter();
  let aborted = false;
  const onClose = () => {
    if (res.writableFinished) return;
    aborted = true;
    abort.emit('abort');
  };
  res.once('close', onClose);
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  try {
    const upstream = await dispatcher.request({
      method: (req.method ?? 'GET') as 'GET',
      path,
      headers: {
        ...forwardable(req.headers),
        'x-forwarded-for': req.socket.remoteAddress ?? '',
        'x-forwarded-host': req.headers.host ?? '',
        'x-call-id': (req.headers['x-call-id'] as string | undefined) ?? randomUUID(),
        'x-start-time': String(Date.now()),
        // The replica stops work nobody will wait for: past this, the gateway answers 504 itself.
        [REQUEST_TIMEOUT_HEADER]: timeoutFor(req.headers[REQUEST_TIMEOUT_HEADER], timeoutMs),
      },
      body: hasBody ? req : null,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: abort,
    });
    const headers = forwardable(upstream.headers);
    // The replica answered before the client finished sending (e.g. a 413): what is left of
    // the body is not read, so this connection must not carry another request.
    if (hasBody && !req.complete) headers.connection = 'close';
    res.writeHead(upstream.statusCode, headers);
    await relay(upstream.body, res);
    return { status: upstream.statusCode };
  } catch (err) {
    const e = err as { code?: string; name?: string };
    if (aborted) return { status: ERRORS.CLIENT_CLOSED, errorCode: 'CLIENT_CLOSED' };
    // The request body was cut off mid-way: this connection cannot carry another request.
    if (hasBody && !req.complete && !res.headersSent) res.setHeader('connection', 'close');
    if (e.code === 'ECONNREFUSED' && !res.headersSent)
      return { status: ERRORS.REPLICA_FAILED, errorCode: 'REPLICA_FAILED', refused: true };
    if (e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT') {
      return sendError(
        res,
        'UPSTREAM_TIMEOUT',
        `replica ${replica.id} did not answer within ${timeoutMs} ms`,
      );
    }
    return sendError(
      res,
      'REPLICA_FAILED',
      `replica ${replica.id} failed during the request (${e.code ?? e.name})`,
    );
  } finally {
    res.off('close', onClose);
  }
}
