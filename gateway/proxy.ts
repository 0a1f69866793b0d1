import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
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
  // for…in: no array of entries made on every call of the hot path (node's and undici's header
  // objects have no inherited enumerable keys).
  for (const k in headers) {
    const v = headers[k];
    if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  }
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

/** Where a response's relay is kept, so that one shared listener serves every call. */
const RELAY = Symbol('relay');
type RelayedResponse = ServerResponse & { [RELAY]?: Relay };

function callerClosed(this: RelayedResponse): void {
  this[RELAY]?.callerClosed();
}
function callerDrained(this: RelayedResponse): void {
  this[RELAY]?.resume();
}

/**
 * One call's way through the replica's connection pool, as an undici dispatch handler that
 * writes the answer straight into the caller's response: no Readable in between (undici's
 * request() makes one per call, and turns the parsed headers back into raw ones for it), no
 * promise per chunk, no AbortSignal, no closure per call. Backpressure is kept by pausing the
 * replica's side while the caller's socket is full.
 */
class Relay implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private status = 0;
  /** The caller went away before the answer was written. */
  private gone = false;
  private settled = false;

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: RelayedResponse,
    private readonly replicaId: string,
    private readonly timeoutMs: number,
    private readonly hasBody: boolean,
    /** Headers the gateway adds to the answer (OpenFaaS's call id and start time). */
    private readonly answerHeaders: Record<string, string>,
    private readonly done: (result: ProxyResult) => void,
  ) {
    res[RELAY] = this;
    res.on('close', callerClosed);
  }

  callerClosed(): void {
    if (this.res.writableFinished || this.settled) return;
    this.gone = true;
    this.controller?.abort(
      Object.assign(new Error('the caller went away'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }),
    );
  }

  resume(): void {
    this.controller?.resume();
  }

  private finish(result: ProxyResult): void {
    if (this.settled) return;
    this.settled = true;
    this.res[RELAY] = undefined;
    this.res.off('close', callerClosed);
    this.res.off('drain', callerDrained);
    this.done(result);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.gone) controller.abort(new Error('the caller went away'));
  }

  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (statusCode < 200) return; // 1xx: informational, the final answer follows
    const out = forwardable(headers);
    for (const k in this.answerHeaders) out[k] = this.answerHeaders[k] as string;
    // The replica answered before the caller finished sending (e.g. a 413): what is left of
    // the body is not read, so this connection must not carry another request.
    if (this.hasBody && !this.req.complete) out.connection = 'close';
    this.status = statusCode;
    this.res.writeHead(statusCode, out);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.res.write(chunk)) {
      controller.pause();
      this.res.once('drain', callerDrained);
    }
  }

  onResponseEnd(): void {
    this.res.end();
    this.finish({ status: this.status });
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    this.finish(this.failure(err as Error & { code?: string }));
  }

  private failure(e: Error & { code?: string }): ProxyResult {
    const { req, res } = this;
    if (this.gone) {
      res.destroy();
      return { status: ERRORS.CLIENT_CLOSED, errorCode: 'CLIENT_CLOSED' };
    }
    // The request body was cut off mid-way: this connection cannot carry another request.
    if (this.hasBody && !req.complete && !res.headersSent) res.setHeader('connection', 'close');
    if (e.code === 'ECONNREFUSED' && !res.headersSent)
      return { status: ERRORS.REPLICA_FAILED, errorCode: 'REPLICA_FAILED', refused: true };
    if (e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT')
      return sendError(
        res,
        'UPSTREAM_TIMEOUT',
        `replica ${this.replicaId} did not answer within ${this.timeoutMs} ms`,
      );
    return sendError(
      res,
      'REPLICA_FAILED',
      `replica ${this.replicaId} failed during the request (${e.code ?? e.name})`,
    );
  }
}

/**
 * Forwards one request to a replica and streams its answer back, with the headers OpenFaaS's
 * gateway adds: X-Call-Id (the caller's, or a new one, then on the answer too) and X-Start-Time
 * in Unix nanoseconds on both (faas gateway/handlers/callid_middleware.go), X-Forwarded-Host and
 * X-Forwarded-For when the caller sent none (faas-provider proxy/proxy.go, buildProxyRequest);
 * and the deadline the replica works to.
 */
export function forward(
  req: IncomingMessage,
  res: ServerResponse,
  replica: Replica,
  path: string,
  timeoutMs: number,
): Promise<ProxyResult> {
  const dispatcher = replica.dispatcher;
  if (!dispatcher)
    return Promise.resolve(sendError(res, 'REPLICA_FAILED', `replica ${replica.id} is not ready`));
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  const asked = req.headers;
  const headers = forwardable(asked);
  const startTime = `${Date.now()}000000`;
  const answerHeaders: Record<string, string> = { 'x-start-time': startTime };
  if (typeof asked['x-call-id'] !== 'string' || asked['x-call-id'] === '') {
    const callId = randomUUID();
    headers['x-call-id'] = callId;
    answerHeaders['x-call-id'] = callId;
  }
  headers['x-start-time'] = startTime;
  if (asked.host && !asked['x-forwarded-host']) headers['x-forwarded-host'] = asked.host;
  if (!asked['x-forwarded-for']) headers['x-forwarded-for'] = req.socket.remoteAddress ?? '';
  // The replica stops work nobody will wait for: past this, the gateway answers 504 itself.
  headers[REQUEST_TIMEOUT_HEADER] = timeoutFor(asked[REQUEST_TIMEOUT_HEADER], timeoutMs);
  return new Promise((resolve) => {
    dispatcher.dispatch(
      {
        method: (req.method ?? 'GET') as Dispatcher.HttpMethod,
        path,
        headers,
        body: hasBody ? req : null,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      },
      new Relay(req, res, replica.id, timeoutMs, hasBody, answerHeaders, resolve),
    );
  });
}
