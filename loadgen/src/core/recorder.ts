import * as hdr from 'hdr-histogram-js';
import type { Counts, FunctionSummary, SecondStats, StatusClass } from '../../../contract/results.ts';

/** How one request ended. `status` 0 means no HTTP answer (network error, timeout). */
export interface Outcome {
  fn: string;
  /** When the open loop meant to send it (ms, the engine's clock). */
  intendedMs: number;
  endMs: number;
  status: number;
  /** The answer's stable error code, or the network error's, when it failed. */
  errorCode?: string;
}

type Histogram = ReturnType<typeof hdr.build>;

const newHistogram = (): Histogram =>
  hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
  });

export function statusClass(status: number): StatusClass {
  if (status >= 200 && status < 300) return '2xx';
  if (status >= 300 && status < 400) return '3xx';
  if (status >= 400 && status < 500) return '4xx';
  if (status >= 500) return '5xx';
  return 'net';
}

/** One function's running counts for a span, before they become a Counts. */
type Bucket = Pick<Counts, 'sent' | 'completed' | 'dropped' | 'byClass' | 'byCode'> & {
  dialled: number;
  histogram: Histogram;
};

const emptyClasses = (): Record<StatusClass, number> => ({ '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, net: 0 });

const ms = (us: number) => Math.round(us) / 1000;

/**
 * Per function and per second: counts by status class and error code, dropped sends,
 * and an HDR histogram of latency measured from the intended send time.
 */
export class Recorder {
  private readonly seconds = new Map<string, Map<number, Bucket>>();
  private readonly totals = new Map<string, Bucket>();
  private emittedUpTo = -1;
  /** Stands for a second in which a function saw nothing; never recorded into. */
  private readonly empty = this.bucket();

  constructor(
    readonly functions: readonly string[],
    /** The engine's clock reading at the start of the run. */
    private readonly startMs: number,
  ) {
    for (const fn of functions) {
      this.seconds.set(fn, new Map());
      this.totals.set(fn, this.bucket());
    }
  }

  private bucket(): Bucket {
    return {
      dialled: 0,
      sent: 0,
      completed: 0,
      dropped: 0,
      byClass: emptyClasses(),
      byCode: {},
      histogram: newHistogram(),
    };
  }

  private at(fn: string, timeMs: number): Bucket {
    const second = Math.max(0, Math.floor((timeMs - this.startMs) / 1000));
    const perFn = this.seconds.get(fn);
    if (!perFn) throw new Error(`unknown function ${fn}`);
    let b = perFn.get(second);
    if (!b) {
      b = this.bucket();
      perFn.set(second, b);
    }
    return b;
  }

  /** The rate the plan asked of a function during the second that contains timeMs. */
  dialled(fn: string, timeMs: number, rate: number): void {
    this.at(fn, timeMs).dialled = rate;
  }

  sent(fn: string, intendedMs: number): void {
    this.at(fn, intendedMs).sent++;
    (this.totals.get(fn) as Bucket).sent++;
  }

  dropped(fn: string, intendedMs: number): void {
    this.at(fn, intendedMs).dropped++;
    (this.totals.get(fn) as Bucket).dropped++;
  }

  complete(o: Outcome): void {
    const latencyUs = Math.max(1, Math.round((o.endMs - o.intendedMs) * 1000));
    for (const b of [this.at(o.fn, o.endMs), this.totals.get(o.fn) as Bucket]) {
      b.completed++;
      b.byClass[statusClass(o.status)]++;
      if (o.errorCode) b.byCode[o.errorCode] = (b.byCode[o.errorCode] ?? 0) + 1;
      b.histogram.recordValue(latencyUs);
    }
  }

  private stats(t: number, fn: string, b: Bucket): SecondStats {
    const h = b.histogram;
    const empty = h.totalCount === 0;
    return {
      t,
      fn,
      dialled: b.dialled,
      sent: b.sent,
      completed: b.completed,
      dropped: b.dropped,
      byClass: { ...b.byClass },
      byCode: { ...b.byCode },
      p50: empty ? 0 : ms(h.getValueAtPercentile(50)),
      p90: empty ? 0 : ms(h.getValueAtPercentile(90)),
      p95: empty ? 0 : ms(h.getValueAtPercentile(95)),
      p99: empty ? 0 : ms(h.getValueAtPercentile(99)),
      max: empty ? 0 : ms(h.maxValue),
    };
  }

  /**
   * The seconds that ended before `nowMs` and were not returned yet, one entry per
   * function per second (zeros included), in order. Their buckets are freed.
   */
  closedSeconds(nowMs: number): SecondStats[] {
    const current = Math.floor((nowMs - this.startMs) / 1000);
    const out: SecondStats[] = [];
    for (let t = this.emittedUpTo + 1; t < current; t++) {
      for (const fn of this.functions) {
        const perFn = this.seconds.get(fn) as Map<number, Bucket>;
        const b = perFn.get(t);
        out.push(this.stats(t, fn, b ?? this.empty));
        if (b) {
          b.histogram.destroy();
          perFn.delete(t);
        }
      }
      this.emittedUpTo = t;
    }
    return out;
  }

  summary(nowMs: number): FunctionSummary[] {
    const elapsedS = Math.max((nowMs - this.startMs) / 1000, 1e-9);
    return this.functions.map((fn) => {
      const { t: _t, dialled: _d, ...counts } = this.stats(0, fn, this.totals.get(fn) as Bucket);
      return { ...counts, rate: Math.round((counts.completed / elapsedS) * 100) / 100 };
    });
  }
}
