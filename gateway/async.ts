import { randomUUID } from 'node:crypto';
import { Counter, Gauge, type Registry } from 'prom-client';
import { request } from 'undici';
import { hostAllowed } from '../functions/lib/hosts.ts';
import { type Logger, rateLimitedWarn } from '../functions/lib/log.ts';
import { GatewayError } from './errors.ts';

/** One queued call: what /async-function was sent, to be replayed on /function. */
export interface AsyncCall {
  callId: string;
  name: string;
  /** The path after the function's name, with the query. */
  path: string;
  headers: Record<string, string>;
  body: Buffer;
  callbackUrl?: URL;
}

export interface AsyncQueueOptions {
  capacity: number;
  concurrency: number;
  /** The gateway's own origin: calls run through its /function route, as the queue worker's do. */
  origin: () => string;
  /** Host names a callback may go to besides loopback's. */
  callbackHosts: ReadonlySet<string>;
  timeoutMs: number;
  registry: Registry;
  log: Logger;
}

/** Headers that belong to one hop, not to the call. */
const HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-length',
  'host',
  'origin',
  'te',
  'upgrade',
]);
const QUEUE = 'faas-request';

/** A message's headers without those of its hop, one value each. */
export const callHeaders = (headers: Record<string, string | string[] | undefined>): Record<string, string> =>
  Object.fromEntries(
    Object.entries(headers)
      .filter(([k, v]) => v !== undefined && !HOP.has(k.toLowerCase()))
      .map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v as string)]),
  );

/**
 * The local stand-in for OpenFaaS's NATS queue and queue worker: /async-function answers 202
 * at once; a bounded queue holds the call (429 QUEUE_FULL past it, where CE would queue without
 * bound); workers replay it as POST on the gateway's /function route (so it counts in the
 * gateway's metrics, as the CE worker's calls do) and POST the answer to X-Callback-Url with
 * the worker's headers: X-Call-Id, X-Function-Name, X-Function-Status, X-Duration-Seconds
 * (nats-queue-worker main.go postResult). The queue's depth is on /metrics under the
 * JetStream worker's name, queue_worker_pending_messages.
 */
export class AsyncQueue {
  private readonly queue: AsyncCall[] = [];
  private running = 0;
  private closed = false;
  private readonly processed: Counter<'queue_name'>;
  private readonly refused: Counter<'function_name'>;
  private readonly callbacks: Counter<'outcome'>;
  private readonly callbackFailed: (fields: Record<string, unknown>) => void;

  constructor(private readonly options: AsyncQueueOptions) {
    const registers = [options.registry];
    const queue = this.queue;
    new Gauge({
      name: 'queue_worker_pending_messages',
      help: 'Asynchronous calls waiting in the queue.',
      labelNames: ['queue_name', 'function_name'],
      registers,
      collect() {
        this.reset();
        for (const call of queue) this.inc({ queue_name: QUEUE, function_name: call.name });
      },
    });
    this.processed = new Counter({
      name: 'queue_worker_messages_processed_total',
      help: 'Asynchronous calls run.',
      labelNames: ['queue_name'],
      registers,
    });
    this.refused = new Counter({
      name: 'gateway_async_refused_total',
      help: 'Asynchronous calls refused because the queue was full (429).',
      labelNames: ['function_name'],
      registers,
    });
    this.callbacks = new Counter({
      name: 'gateway_async_callbacks_total',
      help: 'Results posted to X-Callback-Url, by outcome (delivered, failed).',
      labelNames: ['outcome'],
      registers,
    });
    this.callbackFailed = rateLimitedWarn(options.log, 'an X-Callback-Url did not take its result');
  }

  /**
   * The callback a request names, checked: a URL (400 otherwise, as the CE gateway answers
   * one url.Parse refuses), http(s), to loopback or an allowed host, so the gateway is not a
   * way to reach other machines.
   */
  callbackOf(value: string | undefined): URL | undefined {
    if (!value) return undefined;
    if (!URL.canParse(value))
      throw new GatewayError(
        'BAD_REQUEST',
        `X-Callback-Url is not a URL: ${JSON.stringify(value.slice(0, 200))}`,
      );
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new GatewayError('BAD_REQUEST', `X-Callback-Url must be http or https; got ${url.protocol}`);
    if (!hostAllowed(url.host, this.options.callbackHosts))
      throw new GatewayError(
        'BAD_REQUEST',
        `X-Callback-Url may name loopback or a host in GATEWAY_CALLBACK_HOSTS; not ${JSON.stringify(url.hostname)}`,
      );
    return url;
  }

  /** Queues a call; its id, or QUEUE_FULL. */
  submit(call: Omit<AsyncCall, 'callId'> & { callId?: string }): string {
    if (this.closed || this.queue.length >= this.options.capacity) {
      this.refused.inc({ function_name: call.name });
      throw new GatewayError(
        'QUEUE_FULL',
        `the queue of asynchronous calls is full (${this.options.capacity}, GATEWAY_ASYNC_QUEUE)`,
      );
    }
    const callId = call.callId || randomUUID();
    this.queue.push({ ...call, callId });
    this.pump();
    return callId;
  }

  private pump(): void {
    while (!this.closed && this.running < this.options.concurrency && this.queue.length > 0) {
      const call = this.queue.shift() as AsyncCall;
      this.running++;
      void this.run(call).finally(() => {
        this.running--;
        this.processed.inc({ queue_name: QUEUE });
        this.pump();
      });
    }
  }

  private async run(call: AsyncCall): Promise<void> {
    const start = performance.now();
    let status = 503;
    let headers: Record<string, string> = {};
    let body: Buffer = Buffer.alloc(0);
    try {
      const res = await request(`${this.options.origin()}/function/${call.name}${call.path}`, {
        method: 'POST',
        headers: { ...call.headers, 'x-call-id': call.callId },
        body: call.body,
        headersTimeout: this.options.timeoutMs,
        bodyTimeout: this.options.timeoutMs,
      });
      status = res.statusCode;
      headers = callHeaders(res.headers);
      body = Buffer.from(await res.body.arrayBuffer());
    } catch (err) {
      this.options.log.warn('an asynchronous call got no answer', {
        callId: call.callId,
        function: call.name,
        err,
      });
    }
    if (call.callbackUrl)
      await this.callBack(call, status, headers, body, (performance.now() - start) / 1000);
  }

  private async callBack(
    call: AsyncCall,
    status: number,
    headers: Record<string, string>,
    body: Buffer,
    seconds: number,
  ) {
    try {
      const res = await request(call.callbackUrl as URL, {
        method: 'POST',
        headers: {
          ...headers,
          'x-call-id': call.callId,
          'x-function-name': call.name,
          'x-function-status': String(status),
          'x-duration-seconds': seconds.toFixed(6),
        },
        body,
        headersTimeout: this.options.timeoutMs,
        bodyTimeout: this.options.timeoutMs,
      });
      await res.body.dump();
      this.callbacks.inc({ outcome: 'delivered' });
    } catch (err) {
      this.callbacks.inc({ outcome: 'failed' });
      this.callbackFailed({ callId: call.callId, err });
    }
  }

  /** Stops taking and running calls; those still queued are dropped (and logged). */
  close(): void {
    this.closed = true;
    if (this.queue.length)
      this.options.log.warn('asynchronous calls dropped at shutdown', { count: this.queue.length });
    this.queue.length = 0;
  }
}
