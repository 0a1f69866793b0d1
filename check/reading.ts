import type { Perf } from './perfdata.ts';
import { PluginError, UNKNOWN } from './state.ts';

/** One metric a check measured: its perfdata and what a person reads about it. */
export interface Reading {
  /** The `-m` name that selects it. */
  metric: string;
  perf: Perf;
  /** More perfdata that goes with it (e.g. the thread count beside the connections %). */
  extra?: Perf[];
  text: string;
  /** Set when the value could not be told; selected, the check ends UNKNOWN with this. */
  unknown?: string;
}

/** Metrics that could not be read, and why. */
export interface Failure {
  metrics: readonly string[];
  error: PluginError;
}

/** What a check gathered: every metric is either read or failed. */
export interface Gathered {
  readings: Reading[];
  failures: Failure[];
}

/** The readings of `work`, or its error as the failure of all `metrics`. */
export async function settle(metrics: readonly string[], work: Promise<Reading[]>): Promise<Gathered> {
  try {
    return { readings: await work, failures: [] };
  } catch (err) {
    const error = err instanceof PluginError ? err : new PluginError(UNKNOWN, (err as Error).message);
    return { readings: [], failures: [{ metrics, error }] };
  }
}

export function merge(parts: readonly Gathered[]): Gathered {
  return {
    readings: parts.flatMap((p) => p.readings),
    failures: parts.flatMap((p) => p.failures),
  };
}
