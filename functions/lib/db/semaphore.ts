/**
 * Counts permits for statements: at most `limit` run at once, the rest wait in order. The
 * limit can change at any time (budget mode resizes it from max_connections); lowering it
 * lets the statements running finish and admits no more until fewer run than the new limit.
 */
export class Semaphore {
  private running = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(private max: number) {}

  get limit(): number {
    return this.max;
  }

  get inUse(): number {
    return this.running;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  setLimit(limit: number): void {
    this.max = limit;
    this.admit();
  }

  /** Resolves with the release function once a permit is free. */
  async acquire(): Promise<() => void> {
    if (this.running >= this.max || this.waiters.length > 0) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    } else {
      this.running++;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running--;
      this.admit();
    };
  }

  private admit(): void {
    while (this.running < this.max && this.waiters.length > 0) {
      this.running++;
      (this.waiters.shift() as () => void)();
    }
  }
}
