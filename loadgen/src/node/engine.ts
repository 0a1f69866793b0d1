import { Pool } from 'undici';
import { RatioPicker } from '../core/picker.ts';
import {
  type Plan,
  rateAt,
  shares,
  TARGET_FUNCTIONS,
  type TargetFunction,
  totalDurationS,
} from '../core/plan.ts';
import { Recorder, type SecondStats } from '../core/recorder.ts';
import { requestFor } from '../core/requests.ts';
import type { RunResults } from '../core/results.ts';
import { Scheduler } from '../core/scheduler.ts';

export interface EngineOptions {
  /** Gateway base URL, e.g. http://127.0.0.1:8080. */
  target: string;
  plan: Plan;
  /** Open loop, but bounded: sends due while this many are in flight are counted as dropped. */
  maxInFlight: number;
  connections: number;
  /** A request without an answer by then counts as a TIMEOUT error. */
  timeoutMs: number;
  /** Called with each finished second, one entry per function. */
  onSecond?: (stats: SecondStats[], inFlight: number) => void;
  /** Milliseconds; replaceable in tests. */
  now?: () => number;
}

const TICK_MS = 1;

/**
 * The Node engine: an open-loop generator on undici. Every millisecond it sends all that
 * the scheduler says are due, each to the function the ratio picker names, and records
 * latency from the intended send time.
 */
export class LoadEngine {
  private plan: Plan;
  private readonly pool: Pool;
  private readonly basePath: string;
  private readonly now: () => number;
  private readonly picker: RatioPicker<TargetFunction>;
  private scheduler: Scheduler | undefined;
  private recorder: Recorder | undefined;
  private startMs = 0;
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  private done: Promise<RunResults> | undefined;
  private readonly seconds: SecondStats[] = [];

  constructor(private readonly options: EngineOptions) {
    this.plan = options.plan;
    const url = new URL(options.target);
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.pool = new Pool(url.origin, {
      connections: options.connections,
      pipelining: 1,
      keepAliveTimeout: 30_000,
    });
    this.now = options.now ?? (() => performance.now());
    this.picker = new RatioPicker(this.plan.ratio);
  }

  get currentPlan(): Plan {
    return this.plan;
  }

  get inFlightCount(): number {
    return this.inFlight;
  }

  /** Applies at once: the rate through the scheduler, the ratio through the picker. */
  update(change: Partial<Pick<Plan, 'rate' | 'ratio' | 'strategy'>>): void {
    this.plan = { ...this.plan, ...change, ratio: { ...this.plan.ratio, ...change.ratio } };
    if (change.ratio) this.picker.setWeights(this.plan.ratio);
    if (this.scheduler) this.tick();
  }

  /** Runs the plan to its end (or until stop()) and resolves with the results. */
  run(): Promise<RunResults> {
    if (this.done) return this.done;
    this.startMs = this.now();
    const startedAt = new Date().toISOString();
    this.recorder = new Recorder(TARGET_FUNCTIONS, this.startMs);
    this.scheduler = new Scheduler(rateAt(this.plan, 0), this.startMs);
    this.done = new Promise<RunResults>((resolve) => {
      this.timer = setInterval(() => {
        this.tick();
        const elapsedS = (this.now() - this.startMs) / 1000;
        if (this.stopping || elapsedS >= totalDurationS(this.plan)) {
          clearInterval(this.timer);
          void this.finish(startedAt).then(resolve);
        }
      }, TICK_MS);
    });
    return this.done;
  }

  stop(): void {
    this.stopping = true;
  }

  private tick(): void {
    const scheduler = this.scheduler as Scheduler;
    const recorder = this.recorder as Recorder;
    const now = this.now();
    const tS = (now - this.startMs) / 1000;
    const rate = this.stopping ? 0 : rateAt(this.plan, tS);
    scheduler.setRate(rate, now);
    const share = shares(this.plan.ratio);
    for (const fn of TARGET_FUNCTIONS) recorder.dialled(fn, now, rate * (share[fn] ?? 0));
    for (const intended of scheduler.due(now)) {
      const fn = this.picker.next();
      if (!fn) continue;
      if (this.inFlight >= this.options.maxInFlight) recorder.dropped(fn, intended);
      else this.send(fn, intended);
    }
    this.flushSeconds(now);
  }

  private flushSeconds(now: number): void {
    const closed = (this.recorder as Recorder).closedSeconds(now);
    if (closed.length === 0) return;
    this.seconds.push(...closed);
    this.options.onSecond?.(closed, this.inFlight);
  }

  private send(fn: TargetFunction, intendedMs: number): void {
    const recorder = this.recorder as Recorder;
    const spec = requestFor(fn, this.plan);
    recorder.sent(fn, intendedMs);
    this.inFlight++;
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
          const text = await res.body.text().catch(() => '');
          errorCode = errorCodeOf(text) ?? `HTTP_${res.statusCode}`;
        } else {
          await res.body.dump();
        }
        recorder.complete({
          fn,
          intendedMs,
          endMs: this.now(),
          status: res.statusCode,
          ...(errorCode ? { errorCode } : {}),
        });
      })
      .catch((err: { code?: string }) => {
        const timeout = err.code === 'UND_ERR_HEADERS_TIMEOUT' || err.code === 'UND_ERR_BODY_TIMEOUT';
        recorder.complete({
          fn,
          intendedMs,
          endMs: this.now(),
          status: 0,
          errorCode: timeout ? 'TIMEOUT' : (err.code ?? 'NETWORK'),
        });
      })
      .finally(() => {
        this.inFlight--;
      });
  }

  private async finish(startedAt: string): Promise<RunResults> {
    const deadline = this.now() + this.options.timeoutMs;
    while (this.inFlight > 0 && this.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const end = this.now();
    // Close the last, partial second too.
    this.flushSeconds(this.startMs + (Math.floor((end - this.startMs) / 1000) + 1) * 1000);
    const summary = (this.recorder as Recorder).summary(end);
    // Requests still unanswered past the timeout are abandoned, not waited for.
    await (this.inFlight > 0 ? this.pool.destroy() : this.pool.close());
    return {
      version: 1,
      engine: 'node',
      target: this.options.target,
      plan: this.plan,
      startedAt,
      seconds: this.seconds,
      summary,
    };
  }
}

/** The stable code of a SystemBreaker error body, if it is one. */
export function errorCodeOf(body: string): string | undefined {
  try {
    const code = (JSON.parse(body) as { error?: { code?: unknown } }).error?.code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}
