import type { DbStats } from '../../../contract/functions.ts';
import type { FunctionStatus } from '../../../contract/openfaas.ts';
import type { SystemSample } from '../../../contract/results.ts';
import { SystemRecorder } from '../core/system.ts';
import { getJson } from './gateway-client.ts';

export interface SystemWatchOptions {
  /** Gateway base URL. */
  target: string;
  /** Sent to /system/* (OpenFaaS asks for basic auth there). */
  headers?: Record<string, string>;
  /** Why a poll failed, each time one does (the caller rate-limits what it prints). */
  onProblem?: (what: string) => void;
  /** Each sample as it is taken. */
  onSample?: (sample: SystemSample) => void;
  functionsEveryMs?: number;
  dbEveryMs?: number;
}

/** The body of a 200, else an error saying the status. */
async function answer<T>(url: string, headers: Record<string, string>): Promise<T> {
  const { status, body } = await getJson<T>(url, headers, 2000);
  if (body === undefined) throw new Error(`HTTP ${status}`);
  return body;
}

/**
 * Polls the gateway's `/system/functions` (every second) and dbstats (every two) while a run
 * goes, as the app does, so that `npm run load` results carry the replicas, their CPU and the
 * database beside the load.
 */
export class SystemWatcher {
  readonly recorder: SystemRecorder;
  private readonly timers: Array<ReturnType<typeof setInterval>> = [];
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly options: SystemWatchOptions) {
    this.recorder = new SystemRecorder(Date.now());
    const base = options.target.replace(/\/+$/, '');
    this.every(
      options.functionsEveryMs ?? 1000,
      async () => {
        const fns = await answer<FunctionStatus[]>(`${base}/system/functions`, options.headers ?? {});
        this.recorder.functions(Date.now(), fns);
        options.onSample?.(this.recorder.samples.at(-1) as SystemSample);
      },
      '/system/functions',
    );
    this.every(
      options.dbEveryMs ?? 2000,
      async () => {
        const stats = await answer<DbStats>(`${base}/function/dbstats`, {});
        this.recorder.db(Date.now(), stats);
        options.onSample?.(this.recorder.samples.at(-1) as SystemSample);
      },
      'dbstats',
    );
  }

  /** Stops polling and waits for the polls under way; the samples so far. */
  async stop(): Promise<SystemSample[]> {
    for (const timer of this.timers) clearInterval(timer);
    await Promise.all(this.inFlight);
    return this.recorder.samples;
  }

  private every(ms: number, poll: () => Promise<void>, what: string): void {
    let busy = false;
    const tick = () => {
      if (busy) return; // a slow answer is not asked for twice
      busy = true;
      const p = poll()
        .catch((err: unknown) => {
          const reason = (err as { code?: string }).code ?? (err as Error).message;
          this.options.onProblem?.(`${what}: ${reason}`);
        })
        .finally(() => {
          busy = false;
          this.inFlight.delete(p);
        });
      this.inFlight.add(p);
    };
    tick();
    this.timers.push(setInterval(tick, ms));
  }
}
