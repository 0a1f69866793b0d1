import { Pool } from 'undici';
import { errorCodeOf, OpenLoop } from '../core/open-loop.ts';
import type { Plan, TargetFunction } from '../core/plan.ts';
import type { FunctionSummary, SecondStats } from '../core/recorder.ts';
import { requestFor } from '../core/requests.ts';
import type { RunResults } from '../core/results.ts';

export interface EngineOptions {
  /** Gateway base URL, e.g. http://127.0.0.1:8080. */
  target: string;
  plan: Plan;
  /** Open loop, but bounded: sends due while this many are in flight are counted as dropped. */
  maxInFlight: number;
  connections: number;
  /** A request without an answer by then counts as a TIMEOUT error. */
  timeoutMs: number;
  /** Called with each finished second, one entry per function, and the run's summary so far. */
  onSecond?: (stats: SecondStats[], inFlight: number, summary: FunctionSummary[]) => void;
}

const TICK_MS = 1;

/**
 * The Node engine: the shared open loop on a 1 ms timer, sending with undici. Latency is
 * measured from the intended send time.
 */
export class LoadEngine {
  private readonly pool: Pool;
  private readonly basePath: string;
  private readonly pending: Array<Partial<Pick<Plan, 'rate' | 'ratio' | 'strategy'>>> = [];
  private loop: OpenLoop | undefined;
  private plan: Plan;
  private stopRequested = false;
  private done: Promise<RunResults> | undefined;

  constructor(private readonly options: EngineOptions) {
    this.plan = options.plan;
    const url = new URL(options.target);
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.pool = new Pool(url.origin, {
      connections: options.connections,
      pipelining: 1,
      keepAliveTimeout: 30_000,
    });
  }

  get currentPlan(): Plan {
    return this.loop?.plan ?? this.plan;
  }

  get inFlightCount(): number {
    return this.loop?.inFlight ?? 0;
  }

  update(change: Partial<Pick<Plan, 'rate' | 'ratio' | 'strategy'>>): void {
    if (this.loop) this.emit(this.loop, this.loop.update(change));
    else this.pending.push(change);
  }

  stop(): void {
    this.stopRequested = true;
    this.loop?.stop();
  }

  /** Runs the plan to its end (or until stop()) and resolves with the results. */
  run(): Promise<RunResults> {
    this.done ??= new Promise<RunResults>((resolve) => {
      const loop = new OpenLoop({
        plan: this.plan,
        now: () => performance.now(),
        maxInFlight: this.options.maxInFlight,
        send: (fn, intended) => this.send(loop, fn, intended),
      });
      this.loop = loop;
      for (const change of this.pending.splice(0)) loop.update(change);
      if (this.stopRequested) loop.stop();
      const timer = setInterval(() => {
        this.emit(loop, loop.tick());
        if (!loop.finished) return;
        clearInterval(timer);
        void this.finish(loop).then(resolve);
      }, TICK_MS);
    });
    return this.done;
  }

  private emit(loop: OpenLoop, seconds: SecondStats[]): void {
    if (seconds.length > 0)
      this.options.onSecond?.(seconds, loop.inFlight, loop.recorder.summary(performance.now()));
  }

  private send(loop: OpenLoop, fn: TargetFunction, intendedMs: number): void {
    const spec = requestFor(fn, loop.plan);
    this.pool
      .request({
        method: spec.method,
        path: `${this.basePath}${spec.path}`,
        headersTimeout: this.options.timeoutMs,
        bodyTimeout: this.options.timeoutMs,
      })
      .then(async (res) => {
        let errorCode: string | undefined;
        if (res.statusCode >= 400) {
          errorCode = errorCodeOf(await res.body.text().catch(() => '')) ?? `HTTP_${res.statusCode}`;
        } else {
          await res.body.dump();
        }
        loop.complete({ fn, intendedMs, status: res.statusCode, ...(errorCode ? { errorCode } : {}) });
      })
      .catch((err: { code?: string }) => {
        const timeout = err.code === 'UND_ERR_HEADERS_TIMEOUT' || err.code === 'UND_ERR_BODY_TIMEOUT';
        loop.complete({
          fn,
          intendedMs,
          status: 0,
          errorCode: timeout ? 'TIMEOUT' : (err.code ?? 'NETWORK'),
        });
      });
  }

  private async finish(loop: OpenLoop): Promise<RunResults> {
    const deadline = performance.now() + this.options.timeoutMs;
    while (loop.inFlight > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const { results, last } = loop.results('node', this.options.target);
    this.emit(loop, last);
    // Requests still unanswered past the timeout are abandoned, not waited for.
    await (loop.inFlight > 0 ? this.pool.destroy() : this.pool.close());
    return results;
  }
}
