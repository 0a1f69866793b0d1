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

  /**
   * Resolves with the release function once a permit is free. A waiter whose signal fires
   * leaves the queue at once and rejects with the signal's reason: it never takes a permit.
   */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if (this.running >= this.max || this.waiters.length > 0) {
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          const at = this.waiters.indexOf(admitted);
          if (at >= 0) this.waiters.splice(at, 1);
          reject(signal?.reason);
        };
        const admitted = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        this.waiters.push(admitted);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
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
