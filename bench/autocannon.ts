import autocannon from 'autocannon';
import { median } from './stats.ts';

export interface LoadResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
}

export interface RunOptions {
  method?: 'GET' | 'POST';
  /** Makes each request's path (and query) anew. */
  path?: () => string;
  /**
   * Load from a worker thread, so that a server running in this process (the local gateway)
   * has the event loop to itself. Not with `path`, which cannot cross to a worker.
   */
  inWorker?: boolean;
}

/** A closed-loop autocannon run: the same tool and settings for every side of a comparison. */
export async function autocannonRun(
  url: string,
  connections: number,
  seconds: number,
  options: RunOptions = {},
): Promise<LoadResult> {
  const { path } = options;
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    pipelining: 1,
    method: options.method ?? 'GET',
    ...(options.inWorker ? { workers: 1 } : {}),
    ...(path ? { requests: [{ setupRequest: (req) => ({ ...req, path: path() }) }] } : {}),
  });
  return {
    rps: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

/** The run with the median requests/s of several runs of one side. */
export const medianRun = (runs: readonly LoadResult[]) =>
  runs.find((r) => r.rps === median(runs.map((x) => x.rps))) as LoadResult;
