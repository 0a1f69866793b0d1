import { Pool } from 'undici';
import type { Answer, EngineEvent } from '../../../contract/engine.ts';
import { REQUEST_TIMEOUT_HEADER } from '../../../contract/functions.ts';
import type { Plan, PlanChange } from '../../../contract/plan.ts';
import type { RunResults } from '../../../contract/results.ts';
import type { DemoRule } from '../core/plan.ts';
import { type LoadRun, runOpenLoop, type Transport } from '../core/run.ts';

export interface EngineOptions {
  /** Gateway base URL, e.g. http://127.0.0.1:8080. */
  target: string;
  plan: Plan;
  /** Open loop, but bounded: sends due while this many are in flight are counted as dropped. */
  maxInFlight: number;
  connections: number;
  /** A request without an answer by then counts as a TIMEOUT error. */
  timeoutMs: number;
  /** Each finished second (one entry per function) and the end, as the engine protocol has them. */
  onEvent?: (event: EngineEvent) => void;
  /** The rule the seed-demo profile is shaped from (default: the talk's). */
  demoRule?: DemoRule;
}

const TICK_MS = 1;

const UNDICI_TIMEOUTS = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** Calls over an undici Pool; an error body is read for its code, any other body dumped. */
function undiciTransport(pool: Pool, basePath: string, timeoutMs: number): Transport {
  return async (_fn, spec): Promise<Answer> => {
    try {
      const res = await pool.request({
        method: spec.method,
        path: `${basePath}${spec.path}`,
        // The functions shed at once what they could not answer before this caller gives up.
        headers: { [REQUEST_TIMEOUT_HEADER]: String(timeoutMs) },
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      if (res.statusCode < 400) {
        await res.body.dump();
        return { status: res.statusCode };
      }
      return { status: res.statusCode, body: await res.body.text().catch(() => '') };
    } catch (err) {
      return { failure: UNDICI_TIMEOUTS.has((err as { code?: string }).code ?? '') ? 'timeout' : 'network' };
    }
  };
}

/**
 * The Node engine: the shared run loop on a 1 ms timer, sending with undici. Latency is
 * measured from the intended send time.
 */
export class LoadEngine {
  private readonly pool: Pool;
  private readonly basePath: string;
  private readonly pending: PlanChange[] = [];
  private current: LoadRun | undefined;
  private stopRequested = false;
  private done: Promise<RunResults> | undefined;

  constructor(private readonly options: EngineOptions) {
    const url = new URL(options.target);
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.pool = new Pool(url.origin, {
      connections: options.connections,
      pipelining: 1,
      keepAliveTimeout: 30_000,
    });
  }

  get currentPlan(): Plan {
    return this.current?.plan ?? this.options.plan;
  }

  get inFlightCount(): number {
    return this.current?.inFlight ?? 0;
  }

  update(change: PlanChange): void {
    if (this.current) this.current.update(change);
    else this.pending.push(change);
  }

  stop(): void {
    this.stopRequested = true;
    this.current?.stop();
  }

  /** Runs the plan to its end (or until stop()) and resolves with the results. */
  run(): Promise<RunResults> {
    this.done ??= (async () => {
      const run = runOpenLoop({
        engine: 'node',
        target: this.options.target,
        plan: this.options.plan,
        maxInFlight: this.options.maxInFlight,
        timeoutMs: this.options.timeoutMs,
        tickMs: TICK_MS,
        clock: () => performance.now(),
        every: (ms, fn) => {
          const timer = setInterval(fn, ms);
          return () => clearInterval(timer);
        },
        transport: undiciTransport(this.pool, this.basePath, this.options.timeoutMs),
        ...(this.options.onEvent ? { onEvent: this.options.onEvent } : {}),
        ...(this.options.demoRule ? { demoRule: this.options.demoRule } : {}),
      });
      this.current = run;
      for (const change of this.pending.splice(0)) run.update(change);
      if (this.stopRequested) run.stop();
      const results = await run.done;
      // Requests still unanswered past the timeout are abandoned, not waited for.
      await (run.inFlight > 0 ? this.pool.destroy() : this.pool.close());
      return results;
    })();
    return this.done;
  }
}
