/// <reference lib="webworker" />
import type { Answer, EngineCommand, EngineEvent } from '../../../contract/engine.ts';
import { type LoadRun, runOpenLoop, type Transport } from '../core/run.ts';

/**
 * The browser engine: the shared run loop in a Web Worker, sending with fetch(). Nested
 * timers tick no faster than every 4 ms; sends due in between go out together, each still
 * timed from its intended send time. It speaks the engine protocol of contract/engine.ts.
 */
const post = (event: EngineEvent) => (self as unknown as DedicatedWorkerGlobalScope).postMessage(event);
const TICK_MS = 4;
let run: LoadRun | undefined;
let lastCatAt = 0;

function fetchTransport(target: string, timeoutMs: number): Transport {
  return async (fn, spec): Promise<Answer> => {
    try {
      const res = await fetch(`${target}${spec.path}`, {
        method: spec.method,
        signal: AbortSignal.timeout(timeoutMs),
        cache: 'no-store',
      });
      if (res.status >= 400) return { status: res.status, body: await res.text().catch(() => '') };
      if (fn === 'randshow' && performance.now() - lastCatAt > 1000) {
        // Show the cat randshow served: its page carries the image as a data: URI.
        lastCatAt = performance.now();
        const src = /<img src="(data:image\/[a-z+]+;base64,[^"]+)"/.exec(await res.text())?.[1];
        if (src) post({ type: 'cat', src, id: res.headers.get('x-cat-id') ?? '' });
      } else {
        await res.body?.cancel();
      }
      return { status: res.status };
    } catch (err) {
      return { failure: (err as Error).name === 'TimeoutError' ? 'timeout' : 'network' };
    }
  };
}

self.onmessage = (e: MessageEvent<EngineCommand>) => {
  const command = e.data;
  if (command.type === 'start' && !run) {
    const target = command.target.replace(/\/+$/, '');
    const started = runOpenLoop({
      engine: 'browser',
      target,
      plan: command.plan,
      maxInFlight: command.maxInFlight,
      timeoutMs: command.timeoutMs,
      tickMs: TICK_MS,
      ...(command.demoRule ? { demoRule: command.demoRule } : {}),
      clock: () => performance.now(),
      every: (ms, fn) => {
        const timer = setInterval(fn, ms);
        return () => clearInterval(timer);
      },
      transport: fetchTransport(target, command.timeoutMs),
      onEvent: post,
    });
    run = started;
    post({ type: 'state', running: true, plan: command.plan });
    void started.done.then((results) => {
      run = undefined;
      post({ type: 'state', running: false, plan: results.plan });
    });
  } else if (command.type === 'update' && run) {
    run.update(command.change);
  } else if (command.type === 'stop') {
    run?.stop();
  }
};
