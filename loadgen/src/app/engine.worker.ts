/// <reference lib="webworker" />
import { errorCodeOf, OpenLoop } from '../core/open-loop.ts';
import type { TargetFunction } from '../core/plan.ts';
import type { SecondStats } from '../core/recorder.ts';
import { requestFor } from '../core/requests.ts';
import type { WorkerCommand, WorkerEvent } from './messages.ts';

/**
 * The browser engine: the shared open loop in a Web Worker, sending with fetch(). Nested
 * timers tick no faster than every 4 ms; sends due in between go out together, each still
 * timed from its intended send time.
 */
const post = (event: WorkerEvent) => (self as unknown as DedicatedWorkerGlobalScope).postMessage(event);
const TICK_MS = 4;
const TIMEOUT_MS = 30_000;
let loop: OpenLoop | undefined;
let timer: ReturnType<typeof setInterval> | undefined;
let target = '';
let lastCatAt = 0;

function send(fn: TargetFunction, intendedMs: number): void {
  const running = loop as OpenLoop;
  const spec = requestFor(fn, running.plan);
  fetch(`${target}${spec.path}`, {
    method: spec.method,
    signal: AbortSignal.timeout(TIMEOUT_MS),
    cache: 'no-store',
  })
    .then(async (res) => {
      let errorCode: string | undefined;
      if (res.status >= 400) {
        errorCode = errorCodeOf(await res.text().catch(() => '')) ?? `HTTP_${res.status}`;
      } else if (fn === 'randshow' && performance.now() - lastCatAt > 1000) {
        // Show the cat randshow served: its page carries the image as a data: URI.
        lastCatAt = performance.now();
        const src = /<img src="(data:image\/[a-z+]+;base64,[^"]+)"/.exec(await res.text())?.[1];
        if (src) post({ type: 'cat', src, id: res.headers.get('x-cat-id') ?? '' });
      } else {
        await res.body?.cancel();
      }
      running.complete({ fn, intendedMs, status: res.status, ...(errorCode ? { errorCode } : {}) });
    })
    .catch((err: Error) => {
      running.complete({
        fn,
        intendedMs,
        status: 0,
        errorCode: err.name === 'TimeoutError' ? 'TIMEOUT' : 'NETWORK',
      });
    });
}

function postSeconds(running: OpenLoop, closed: SecondStats[]): void {
  if (closed.length === 0) return;
  post({
    type: 'second',
    stats: closed,
    inFlight: running.inFlight,
    summary: running.recorder.summary(performance.now()),
  });
}

function finish(): void {
  const running = loop as OpenLoop;
  clearInterval(timer);
  const deadline = performance.now() + TIMEOUT_MS;
  const wait = setInterval(() => {
    if (running.inFlight > 0 && performance.now() < deadline) return;
    clearInterval(wait);
    const { results, last } = running.results('browser', target);
    if (last.length)
      post({ type: 'second', stats: last, inFlight: running.inFlight, summary: results.summary });
    post({ type: 'done', results });
    loop = undefined;
  }, 50);
}

self.onmessage = (e: MessageEvent<WorkerCommand>) => {
  const command = e.data;
  if (command.type === 'start' && !loop) {
    target = command.target.replace(/\/+$/, '');
    const running = new OpenLoop({
      plan: command.plan,
      now: () => performance.now(),
      maxInFlight: command.maxInFlight,
      send,
    });
    loop = running;
    timer = setInterval(() => {
      postSeconds(running, running.tick());
      if (running.finished) finish();
    }, TICK_MS);
  } else if (command.type === 'update' && loop) {
    postSeconds(loop, loop.update(command.change));
  } else if (command.type === 'stop') {
    loop?.stop();
  }
};
