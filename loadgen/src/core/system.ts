import type { DbStats } from '../../../contract/functions.ts';
import type { FunctionStatus } from '../../../contract/openfaas.ts';
import type { DbSample, FunctionSample, SystemSample } from '../../../contract/results.ts';

/** The part of `/system/functions` a run keeps: replicas, ready ones and CPU per function. */
export function functionSamples(fns: readonly FunctionStatus[]): Record<string, FunctionSample> {
  return Object.fromEntries(
    fns.map((f) => [
      f.name,
      {
        replicas: f.replicas,
        ready: f.availableReplicas,
        // OpenFaaS's usage.cpu: millicores over all replicas (absent without metrics-server).
        ...(f.usage ? { cpu: f.usage.cpu } : {}),
      },
    ]),
  );
}

/** The part of dbstats's answer a run keeps. */
export function dbSample(stats: DbStats): DbSample {
  return {
    threadsConnected: stats.server.threadsConnected,
    queriesRunning: stats.server.queriesRunning,
    maxConnections: stats.server.maxConnections,
    rows: stats.rows,
    blobBytes: stats.blobBytes,
  };
}

/** The stack's samples over one run, timed from its start as the run's seconds are. */
export class SystemRecorder {
  readonly samples: SystemSample[] = [];

  /** @param startMs the run's start, in ms on the clock the samples are timed with. */
  constructor(private readonly startMs: number) {}

  functions(atMs: number, fns: readonly FunctionStatus[]): void {
    this.samples.push({ t: this.t(atMs), functions: functionSamples(fns) });
  }

  db(atMs: number, stats: DbStats): void {
    this.samples.push({ t: this.t(atMs), db: dbSample(stats) });
  }

  private t(atMs: number): number {
    return Math.round((atMs - this.startMs) / 100) / 10;
  }
}
