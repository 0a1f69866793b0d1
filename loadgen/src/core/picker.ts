/**
 * Smooth weighted round-robin (as nginx balances upstreams): over any window of one full
 * cycle (the sum of integer weights) each name is picked exactly its weight times, and
 * the picks are spread evenly rather than in runs.
 */
export class RatioPicker<T extends string> {
  private names: T[] = [];
  private weights: number[] = [];
  private current: number[] = [];
  private total = 0;

  constructor(weights: Record<T, number>) {
    this.setWeights(weights);
  }

  setWeights(weights: Record<T, number>): void {
    // Fractional weights become integers with the same proportions (to 3 decimals).
    const entries = (Object.entries(weights) as [T, number][]).filter(([, w]) => w > 0);
    const scaled = entries.map(([, w]) => Math.round(w * 1000));
    const g = scaled.reduce((a, b) => gcd(a, b), 0) || 1;
    this.names = entries.map(([n]) => n);
    this.weights = scaled.map((w) => w / g);
    this.current = this.weights.map(() => 0);
    this.total = this.weights.reduce((a, b) => a + b, 0);
  }

  /** Length of one full cycle. */
  get cycle(): number {
    return this.total;
  }

  next(): T | undefined {
    if (this.total === 0) return undefined;
    let best = 0;
    for (let i = 0; i < this.names.length; i++) {
      this.current[i] = (this.current[i] as number) + (this.weights[i] as number);
      if ((this.current[i] as number) > (this.current[best] as number)) best = i;
    }
    this.current[best] = (this.current[best] as number) - this.total;
    return this.names[best];
  }
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}
