/**
 * Open-loop send times: the n-th send is due when the integral of the rate reaches n,
 * whatever happened to earlier requests (no coordinated omission). A rate change applies
 * at once: the part of the current interval still to go is stretched or shrunk to the new rate.
 */
export class Scheduler {
  private rate = 0;
  /** Send k since the last rate change is due at anchor + k × 1000 / rate (no drift from adding). */
  private anchor = Number.POSITIVE_INFINITY;
  private k = 0;

  constructor(rate: number, now: number) {
    this.setRate(rate, now);
  }

  /** Next intended send time (ms), or Infinity at rate 0. */
  get nextSend(): number {
    return this.rate === 0 ? Number.POSITIVE_INFINITY : this.anchor + (this.k * 1000) / this.rate;
  }

  setRate(rate: number, now: number): void {
    const r = Math.max(0, rate);
    if (r === this.rate) return;
    if (r === 0) {
      this.rate = 0;
      this.anchor = Number.POSITIVE_INFINITY;
      return;
    }
    // The fraction of one interval still to go at `now`. Starting from rate 0 the first send
    // is due at once, so that T seconds at rate r send exactly r × T.
    const left = this.rate === 0 ? 0 : Math.max(0, ((this.nextSend - now) * this.rate) / 1000);
    this.rate = r;
    this.anchor = now + (left * 1000) / r;
    this.k = 0;
  }

  /** Intended send times up to `now`, in order; each is returned once. */
  due(now: number, max = Number.POSITIVE_INFINITY): number[] {
    const out: number[] = [];
    while (out.length < max) {
      const next = this.nextSend;
      if (next > now) break;
      out.push(next);
      this.k++;
    }
    return out;
  }
}
