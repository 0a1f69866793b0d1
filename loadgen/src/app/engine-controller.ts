import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { type LiveEvent, readEvents } from '../core/live.ts';
import type { Plan } from '../core/plan.ts';
import type { FunctionSummary, SecondStats } from '../core/recorder.ts';
import type { RunResults } from '../core/results.ts';
import type { WorkerEvent } from './messages.ts';

export type EngineKind = 'browser' | 'server';

export interface EngineCallbacks {
  /** One finished second of every function; `wallStart` is the run's start in Unix seconds. */
  onSecond(stats: SecondStats[], wallStart: number): void;
  onCat(src: string, id: string): void;
}

/** Requests beyond this many in flight are dropped: above it Chromium fails with ERR_INSUFFICIENT_RESOURCES. */
export const BROWSER_MAX_IN_FLIGHT = 256;

/**
 * Runs the load: the browser engine in a Web Worker, or the server engine in the local
 * gateway (control over HTTP, per-second stats as Server-Sent Events). Cleans up when the
 * host goes away.
 */
export class EngineController implements ReactiveController {
  running = false;
  kind: EngineKind = 'browser';
  inFlight = 0;
  summary: FunctionSummary[] = [];
  error: string | undefined;
  private seconds: SecondStats[] = [];
  private plan: Plan | undefined;
  private target = '';
  private wallStart = 0;
  private worker: Worker | undefined;
  private stream: AbortController | undefined;
  private headers: Record<string, string> = {};
  private serverStarted = false;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly callbacks: EngineCallbacks,
  ) {
    host.addController(this);
  }

  hostConnected(): void {}

  hostDisconnected(): void {
    this.worker?.terminate();
    this.stream?.abort();
  }

  async start(kind: EngineKind, target: string, plan: Plan, headers: Record<string, string>): Promise<void> {
    if (this.running) return;
    Object.assign(this, {
      kind,
      target,
      plan,
      headers,
      seconds: [],
      summary: [],
      error: undefined,
      inFlight: 0,
    });
    this.serverStarted = false;
    this.wallStart = Date.now() / 1000;
    this.running = true;
    this.host.requestUpdate();
    if (kind === 'browser') {
      const worker = new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module' });
      this.worker = worker;
      worker.onmessage = (e: MessageEvent<WorkerEvent>) => this.onEvent(e.data);
      worker.postMessage({ type: 'start', target, plan, maxInFlight: BROWSER_MAX_IN_FLIGHT });
      return;
    }
    try {
      this.listen();
      await this.control('POST', '/system/loadgen/start', plan);
    } catch (err) {
      this.fail(err);
    }
  }

  update(change: Partial<Pick<Plan, 'rate' | 'ratio' | 'strategy'>>): void {
    if (!this.running || !this.plan) return;
    this.plan = { ...this.plan, ...change, ratio: { ...this.plan.ratio, ...change.ratio } };
    if (this.kind === 'browser') this.worker?.postMessage({ type: 'update', change });
    else this.control('PATCH', '/system/loadgen', change).catch((err: unknown) => this.fail(err));
  }

  stop(): void {
    if (this.kind === 'browser') this.worker?.postMessage({ type: 'stop' });
    else this.control('POST', '/system/loadgen/stop').catch((err: unknown) => this.fail(err));
  }

  /** Everything so far, in the export format. */
  results(): RunResults | undefined {
    if (!this.plan) return undefined;
    return {
      version: 1,
      engine: this.kind,
      target: this.target,
      plan: this.plan,
      startedAt: new Date(this.wallStart * 1000).toISOString(),
      seconds: this.seconds,
      summary: this.summary,
    };
  }

  private onEvent(event: WorkerEvent | LiveEvent): void {
    if (event.type === 'second') {
      this.seconds.push(...event.stats);
      this.inFlight = event.inFlight;
      this.summary = event.summary;
      this.callbacks.onSecond(event.stats, this.wallStart);
    } else if (event.type === 'cat') {
      this.callbacks.onCat(event.src, event.id);
    } else if (event.type === 'done') {
      this.summary = 'results' in event ? event.results.summary : event.summary;
      this.finish();
    } else if (event.type === 'state' && this.kind === 'server') {
      // The stream opens with the state before our start: only an end after a start counts.
      if (event.running) this.serverStarted = true;
      else if (this.serverStarted && this.running) this.finish();
    } else if (event.type === 'error') {
      this.fail(new Error(event.message));
    }
    this.host.requestUpdate();
  }

  private finish(): void {
    this.running = false;
    this.worker?.terminate();
    this.worker = undefined;
    this.stream?.abort();
    this.stream = undefined;
    this.host.requestUpdate();
  }

  private fail(err: unknown): void {
    this.error = (err as Error).message;
    this.finish();
  }

  private async control(method: string, path: string, body?: unknown): Promise<void> {
    const res = await fetch(`${this.target}${path}`, {
      method,
      headers: { ...this.headers, 'content-type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
    });
    if (!res.ok) {
      const text = await res.text();
      throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 200)}`);
    }
  }

  /** Reads the gateway's event stream with fetch, so that basic-auth headers can go along. */
  private listen(): void {
    const abort = new AbortController();
    this.stream = abort;
    void fetch(`${this.target}/system/loadgen/events`, { headers: this.headers, signal: abort.signal })
      .then((res) => readEvents(res.body as ReadableStream<Uint8Array>, (event) => this.onEvent(event)))
      .catch(() => {});
  }
}
