import type { ReactiveController, ReactiveControllerHost } from 'lit';

/** Polls a source every `intervalMs` while its host is connected; keeps the last value or error. */
export class PollController<T> implements ReactiveController {
  value: T | undefined;
  error: string | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private busy = false;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly fetcher: () => Promise<T>,
    private readonly intervalMs: number,
    private readonly onValue?: (value: T) => void,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    void this.poll();
    this.timer = setInterval(() => void this.poll(), this.intervalMs);
  }

  hostDisconnected(): void {
    clearInterval(this.timer);
  }

  /** Polls now (e.g. after the target changed). */
  async poll(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      this.value = await this.fetcher();
      this.error = undefined;
      if (this.value !== undefined) this.onValue?.(this.value);
    } catch (err) {
      this.error = (err as Error).message;
    } finally {
      this.busy = false;
      this.host.requestUpdate();
    }
  }
}
