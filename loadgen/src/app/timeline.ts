import type { AlignedData } from 'uplot';

/**
 * Values per wall-clock second for the last `spanS` seconds, keyed by series name, on one
 * shared x axis (what uPlot draws).
 */
export class Timeline {
  readonly x: number[] = [];
  private readonly series = new Map<string, Array<number | null>>();

  constructor(readonly spanS = 300) {}

  set(key: string, second: number, value: number): void {
    const s = Math.floor(second);
    this.extendTo(s);
    const i = s - (this.x[0] as number);
    if (i < 0) return; // older than the window
    let ys = this.series.get(key);
    if (!ys) {
      ys = this.x.map(() => null);
      this.series.set(key, ys);
    }
    ys[i] = value;
  }

  /** Adds to a value (e.g. counts of one error code from several functions). */
  add(key: string, second: number, value: number): void {
    const s = Math.floor(second);
    const i = s - (this.x[0] ?? s);
    const current = i >= 0 ? (this.series.get(key)?.[i] ?? 0) : 0;
    this.set(key, s, current + value);
  }

  keys(prefix: string): string[] {
    return [...this.series.keys()].filter((k) => k.startsWith(prefix)).sort();
  }

  data(keys: readonly string[]): AlignedData {
    return [this.x, ...keys.map((k) => this.series.get(k) ?? this.x.map(() => null))];
  }

  private extendTo(second: number): void {
    if (this.x.length === 0) this.x.push(second - 1);
    for (let s = (this.x.at(-1) as number) + 1; s <= second; s++) {
      this.x.push(s);
      for (const ys of this.series.values()) ys.push(null);
    }
    const excess = this.x.length - this.spanS;
    if (excess > 0) {
      this.x.splice(0, excess);
      for (const ys of this.series.values()) ys.splice(0, excess);
    }
  }
}
