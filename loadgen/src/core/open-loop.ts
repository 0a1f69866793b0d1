import { TARGET_FUNCTIONS, type TargetFunction } from '../../../contract/functions.ts';
import { mergePlan, type Plan, type PlanChange } from '../../../contract/plan.ts';
import type { RunResults, SecondStats } from '../../../contract/results.ts';
import { RatioPicker } from './picker.ts';
import { type DemoRule, rateAt, shares, TALK_DEMO, totalDurationS } from './plan.ts';
import { type Outcome, Recorder } from './recorder.ts';
import { Scheduler } from './scheduler.ts';

export interface OpenLoopOptions {
  plan: Plan;
  /** Milliseconds on a monotonic clock. */
  now: () => number;
  /** Sends due while this many are in flight are dropped and counted. */
  maxInFlight: number;
  /** Starts one request; the engine calls `complete` when it ends. */
  send: (fn: TargetFunction, intendedMs: number) => void;
  /** The rule the seed-demo profile is shaped from (default: the talk's). */
  demoRule?: DemoRule;
}

/**
 * The engine-independent part of a load run: on each tick, the rate from the plan (or the
 * live dial), the sends the scheduler says are due, the function the picker names, the
 * in-flight cap, and the recorder. An engine only supplies a timer and a way to send.
 */
export class OpenLoop {
  plan: Plan;
  readonly recorder: Recorder;
  readonly startMs: number;
  readonly startedAt = new Date().toISOString();
  inFlight = 0;
  private readonly scheduler: Scheduler;
  private readonly picker: RatioPicker<TargetFunction>;
  /** Each function's share of the rate; changes only with the ratio, not on every tick. */
  private share: Record<string, number>;
  private readonly seconds: SecondStats[] = [];
  private stopping = false;
  private readonly rule: DemoRule;

  constructor(private readonly options: OpenLoopOptions) {
    this.plan = options.plan;
    this.rule = options.demoRule ?? TALK_DEMO;
    this.startMs = options.now();
    this.recorder = new Recorder(TARGET_FUNCTIONS, this.startMs);
    this.scheduler = new Scheduler(rateAt(this.plan, 0, this.rule), this.startMs);
    this.picker = new RatioPicker(this.plan.ratio);
    this.share = shares(this.plan.ratio);
  }

  /** Applies at once (the rate through the scheduler, the ratio through the picker); returns what the tick closed. */
  update(change: PlanChange): SecondStats[] {
    this.plan = mergePlan(this.plan, change);
    if (change.ratio) {
      this.picker.setWeights(this.plan.ratio);
      this.share = shares(this.plan.ratio);
    }
    return this.tick();
  }

  stop(): void {
    this.stopping = true;
  }

  /** True once the plan has run its length or stop() was called. */
  get finished(): boolean {
    return (
      this.stopping || (this.options.now() - this.startMs) / 1000 >= totalDurationS(this.plan, this.rule)
    );
  }

  /** Sends what is due; returns the seconds that closed since the last tick. */
  tick(): SecondStats[] {
    const now = this.options.now();
    const endMs = this.startMs + totalDurationS(this.plan, this.rule) * 1000;
    // The last instant that still belongs to the plan: a late tick finishes its final interval.
    const until = Math.min(now, endMs - 1e-6);
    const rate = this.stopping ? 0 : rateAt(this.plan, (until - this.startMs) / 1000, this.rule);
    this.scheduler.setRate(rate, Math.min(now, endMs));
    for (const fn of TARGET_FUNCTIONS)
      this.recorder.dialled(fn, now, now < endMs ? rate * (this.share[fn] ?? 0) : 0);
    // Everything intended before the end is sent, even when the tick comes late.
    for (const intended of this.scheduler.due(until)) {
      const fn = this.picker.next();
      if (!fn) continue;
      if (this.inFlight >= this.options.maxInFlight) {
        this.recorder.dropped(fn, intended);
      } else {
        this.recorder.sent(fn, intended);
        this.inFlight++;
        this.options.send(fn, intended);
      }
    }
    if (now >= endMs) this.scheduler.setRate(0, now);
    return this.closeSeconds(now);
  }

  complete(outcome: Omit<Outcome, 'endMs'>): void {
    this.inFlight--;
    this.recorder.complete({ ...outcome, endMs: this.options.now() });
  }

  private closeSeconds(now: number): SecondStats[] {
    const closed = this.recorder.closedSeconds(now);
    this.seconds.push(...closed);
    return closed;
  }

  /** Closes the last, partial second and returns everything in the export format. */
  results(engine: RunResults['engine'], target: string): { results: RunResults; last: SecondStats[] } {
    const end = this.options.now();
    const last = this.closeSeconds(this.startMs + (Math.floor((end - this.startMs) / 1000) + 1) * 1000);
    return {
      last,
      results: {
        version: 1,
        engine,
        target,
        plan: this.plan,
        startedAt: this.startedAt,
        seconds: this.seconds,
        summary: this.recorder.summary(end),
      },
    };
  }
}
