import { type Answer, type EngineEvent, outcomeCode } from '../../../contract/engine.ts';
import type { TargetFunction } from '../../../contract/functions.ts';
import type { Plan, PlanChange } from '../../../contract/plan.ts';
import type { EngineName, RunResults, SecondStats } from '../../../contract/results.ts';
import { OpenLoop } from './open-loop.ts';
import type { DemoRule } from './plan.ts';
import { type RequestSpec, requestFor } from './requests.ts';

/** Sends one call; resolves with what came back and never rejects (no answer is a Failure). */
export type Transport = (fn: TargetFunction, spec: RequestSpec) => Promise<Answer>;

export interface RunOptions {
  engine: EngineName;
  /** Gateway base URL, as the results report it. */
  target: string;
  plan: Plan;
  /** Sends due while this many are in flight are dropped and counted. */
  maxInFlight: number;
  /** After the plan's end, how long answers still outstanding are waited for. */
  timeoutMs: number;
  /** How often the loop looks at the clock and sends what is due. */
  tickMs: number;
  /** Milliseconds on a monotonic clock. */
  clock: () => number;
  /** Calls `fn` every `ms` until the returned function is called. */
  every: (ms: number, fn: () => void) => () => void;
  transport: Transport;
  /** Every second, the cats, and the end, as the engine protocol has them. */
  onEvent?: (event: EngineEvent) => void;
  /** The rule the seed-demo profile is shaped from (default: the talk's). */
  demoRule?: DemoRule;
}

/** A run under way. */
export interface LoadRun {
  readonly plan: Plan;
  readonly inFlight: number;
  update(change: PlanChange): void;
  stop(): void;
  /** Resolves with the results once the plan has run its length (or stop()) and answers are in. */
  readonly done: Promise<RunResults>;
}

/**
 * The one run loop of every engine: the open loop on the engine's timer, each call through
 * the engine's transport, each outcome classified the same way, each finished second and
 * the end reported as engine events. An engine supplies a clock, a timer and a transport.
 */
export function runOpenLoop(options: RunOptions): LoadRun {
  const { clock, onEvent } = options;
  const loop = new OpenLoop({
    plan: options.plan,
    now: clock,
    maxInFlight: options.maxInFlight,
    ...(options.demoRule ? { demoRule: options.demoRule } : {}),
    send: (fn, intendedMs) => {
      options
        .transport(fn, requestFor(fn, loop.plan))
        .catch((): Answer => ({ failure: 'network' }))
        .then((answer) => {
          const errorCode = outcomeCode(answer);
          const status = 'status' in answer ? answer.status : 0;
          loop.complete({ fn, intendedMs, status, ...(errorCode ? { errorCode } : {}) });
        });
    },
  });
  const emit = (seconds: SecondStats[]) => {
    if (seconds.length > 0)
      onEvent?.({
        type: 'second',
        stats: seconds,
        inFlight: loop.inFlight,
        summary: loop.recorder.summary(clock()),
      });
  };

  const done = new Promise<RunResults>((resolve) => {
    const cancelTicks = options.every(options.tickMs, () => {
      emit(loop.tick());
      if (!loop.finished) return;
      cancelTicks();
      // Answers still out are waited for up to the timeout, then abandoned.
      const deadline = clock() + options.timeoutMs;
      const cancelWait = options.every(Math.max(options.tickMs, 10), () => {
        if (loop.inFlight > 0 && clock() < deadline) return;
        cancelWait();
        const { results, last } = loop.results(options.engine, options.target);
        emit(last);
        onEvent?.({ type: 'done', results });
        resolve(results);
      });
    });
  });

  return {
    get plan() {
      return loop.plan;
    },
    get inFlight() {
      return loop.inFlight;
    },
    update: (change) => emit(loop.update(change)),
    stop: () => loop.stop(),
    done,
  };
}
