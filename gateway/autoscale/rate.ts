/**
 * Invocation counts per second for one function, kept for a bounded span, so that a rate
 * over the last N seconds can be read the way Prometheus's rate() would see it.
 */
export class RateWindow {
  private readonly buckets: Array<{ second: number; ok: number; all: number }> = [];

  constructor(private readonly spanSeconds = 120) {}

  /** Counts one invocation; `ok` says whether the alert rule counts it (code="200", or any 2xx). */
  record(nowMs: number, status: number, ok = status === 200): void {
    const second = Math.floor(nowMs / 1000);
    let last = this.buckets.at(-1);
    if (!last || last.second !== second) {
      last = { second, ok: 0, all: 0 };
      this.buckets.push(last);
      while (this.buckets.length > 0 && (this.buckets[0]?.second ?? second) <= second - this.spanSeconds) {
        this.buckets.shift();
      }
    }
    last.all++;
    if (ok) last.ok++;
  }

  /** Per-second rates over the `windowMs` before `nowMs` (the current partial second excluded). */
  rates(nowMs: number, windowMs: number): { rate200: number; rate: number } {
    const current = Math.floor(nowMs / 1000);
    const seconds = Math.max(1, Math.round(windowMs / 1000));
    let ok = 0;
    let all = 0;
    for (const b of this.buckets) {
      if (b.second < current && b.second >= current - seconds) {
        ok += b.ok;
        all += b.all;
      }
    }
    return { rate200: ok / seconds, rate: all / seconds };
  }
}
