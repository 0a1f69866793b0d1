import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { EngineCommand, EngineEvent } from '../../../contract/engine.ts';
import type { DemoRule } from '../../../contract/openfaas.ts';
import { mergePlan, type Plan, type PlanChange } from '../../../contract/plan.ts';
import type { FunctionSummary, RunResults, SecondStats } from '../../../contract/results.ts';
import { readEvents } from './sse.ts';

export type EngineKind = 'browser' | 'server';

/** idle: nothing runs; running: a run goes and reports; lost: the server engine's event stream dropped. */
export type EngineStatus = 'idle' | 'running' | 'lost';

export interface EngineCallbacks {
  /** One finished second of every function; `wallStart` is the run's start in Unix seconds. */
  onSecond(stats: SecondStats[], wallStart: number): void;
  onCat(src: string, id: string): void;
}

/** Requests beyond this many in flight are dropped: above it Chromium fails with ERR_INSUFFICIENT_RESOURCES. */
export const BROWSER_MAX_IN_FLIGHT = 256;
/** A call without an answer by then counts as TIMEOUT (both engines). */
export const ENGINE_TIMEOUT_MS = 30_000;

/**
 * Runs the load: the browser engine in a Web Worker, or the server engine in the local
 * gateway (control over HTTP, events as Server-Sent Events); both speak contract/engine.ts.
 * If the server engine's stream drops, the status says so and reconnect() listens again.
 * Cleans up when the host goes away.
 */
export class EngineController implements ReactiveController {
  status: EngineStatus = 'idle';
  kind: EngineKind = 'browser';
  inFlight = 0;
  summary: FunctionSummary[] = [];
  error: string | undefined;
  private seconds: SecondStats[] = [];
  private plan: Plan | undefined;
  private target = '';
  /** The run's start, Unix seconds. */
  wallStart = 0;
  private worker: Worker | undefined;
  private stream: AbortController | undefined;
  private headers: Record<string, string> = {};
  private serverStarted = false;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly callbacks: EngineCallbacks,
    /** Starts the browser engine's worker (tests give a bundle of their own). */
    private readonly createWorker: () => Worker = () =>
      // Written out in full: this is the pattern Vite finds and bundles the worker by.
      new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module' }),
  ) {
    host.addController(this);
  }

  get running(): boolean {
    return this.status === 'running';
  }

  hostConnected(): void {}

  hostDisconnected(): void {
    this.worker?.terminate();
    this.stream?.abort();
  }

  /** Starts a run; `demoRule` shapes a seed-demo plan in the browser engine (the server engine uses its gateway's). */
  async start(
    kind: EngineKind,
    target: string,
    plan: Plan,
    headers: Record<string, string>,
    demoRule?: DemoRule,
  ): Promise<void> {
    if (this.status !== 'idle') return;
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
    this.setStatus('running');
    const command: EngineCommand = {
      type: 'start',
      target,
      plan,
      maxInFlight: BROWSER_MAX_IN_FLIGHT,
      timeoutMs: ENGINE_TIMEOUT_MS,
      ...(demoRule ? { demoRule } : {}),
    };
    if (kind === 'browser') {
      const worker = this.createWorker();
      this.worker = worker;
      worker.onmessage = (e: MessageEvent<EngineEvent>) => this.onEvent(e.data);
      worker.onerror = (e) => this.fail(new Error(`the browser engine failed: ${e.message}`));
      worker.postMessage(command);
      return;
    }
    try {
      this.listen();
      await this.control('POST', '/system/loadgen/start', plan);
    } catch (err) {
      this.fail(err);
    }
  }

  update(change: PlanChange): void {
    if (this.status !== 'running' || !this.plan) return;
    this.plan = mergePlan(this.plan, change);
    if (this.kind === 'browser') this.worker?.postMessage({ type: 'update', change } satisfies EngineCommand);
    else this.control('PATCH', '/system/loadgen', change).catch((err: unknown) => this.fail(err));
  }

  stop(): void {
    if (this.kind === 'browser') this.worker?.postMessage({ type: 'stop' } satisfies EngineCommand);
    else this.control('POST', '/system/loadgen/stop').catch((err: unknown) => this.fail(err));
  }

  /** After the server engine's stream dropped: listen again; its first state says whether the run still goes. */
  reconnect(): void {
    if (this.status !== 'lost') return;
    this.error = undefined;
    this.serverStarted = true;
    this.setStatus('running');
    this.listen();
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

  private onEvent(event: EngineEvent): void {
    if (event.type === 'second') {
      this.seconds.push(...event.stats);
      this.inFlight = event.inFlight;
      this.summary = event.summary;
      this.callbacks.onSecond(event.stats, this.wallStart);
    } else if (event.type === 'cat') {
      this.callbacks.onCat(event.src, event.id);
    } else if (event.type === 'done') {
      this.summary = event.results.summary;
      this.finish();
    } else if (event.type === 'state') {
      // The server's stream opens with the state before our start: only an end after a start counts.
      if (event.running) this.serverStarted = true;
      else if (this.serverStarted && this.status === 'running') this.finish();
    } else if (event.type === 'error') {
      this.fail(new Error(event.message));
    }
    this.host.requestUpdate();
  }

  private setStatus(status: EngineStatus): void {
    this.status = status;
    this.host.requestUpdate();
  }

  private finish(): void {
    this.worker?.terminate();
    this.worker = undefined;
    this.stream?.abort();
    this.stream = undefined;
    this.setStatus('idle');
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

  /**
   * Reads the gateway's event stream with fetch, so that basic-auth headers can go along. A
   * stream that ends or fails while the run goes, without us closing it, leaves the engine lost.
   */
  private listen(): void {
    const abort = new AbortController();
    this.stream = abort;
    const lost = (reason: string) => {
      if (abort.signal.aborted || this.status !== 'running') return;
      this.error = `engine lost: ${reason}`;
      this.setStatus('lost');
    };
    void fetch(`${this.target}/system/loadgen/events`, { headers: this.headers, signal: abort.signal })
      .then(async (res) => {
        if (!res.ok || !res.body) throw new Error(`the event stream answered ${res.status}`);
        await readEvents(res.body, (event) => this.onEvent(event));
        lost('the gateway closed the event stream');
      })
      .catch((err: unknown) => lost((err as Error).message));
  }
}
