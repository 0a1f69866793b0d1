import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { CONNECTION_MODES, type PoolStats } from '../../contract/functions.ts';

/** What only a function server knows; the gateway exports the invocation counts. */
export interface FunctionMetrics {
  readonly registry: Registry;
  readonly requests: Counter<'code'>;
  readonly errors: Counter<'error_code'>;
  readonly imagesStored: Counter<'encoding'>;
  readonly bytesStored: Counter<'encoding' | 'kind'>;
  readonly dbQuerySeconds: Histogram<'query' | 'outcome'>;
  readonly sourceFetchSeconds: Histogram<'outcome'>;
  /** budget mode: retries after "too many connections". */
  readonly dbRetries: Counter;
  /** Statements given up because their caller left or their deadline passed: still queued, or stopped while running. */
  readonly dbCancelled: Counter<'stage' | 'reason'>;
  /** Called at scrape time to report the pool's connections. */
  watchPool(stats: () => PoolStats): void;
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The pool's states and its mode, read from the pool at scrape time. */
function registerPoolGauges(registers: Registry[], read: () => PoolStats | undefined): void {
  new Gauge({
    name: 'systembreaker_db_pool_connections',
    help: 'Connections of this replica’s pool by state (in_use, free, queued statements, limit).',
    labelNames: ['state'],
    registers,
    collect() {
      const s = read();
      if (!s) return;
      this.set({ state: 'in_use' }, s.total - s.free);
      this.set({ state: 'free' }, s.free);
      this.set({ state: 'queued' }, s.queued);
      this.set({ state: 'limit' }, s.limit);
    },
  });
  new Gauge({
    name: 'systembreaker_db_connection_mode',
    help: 'The connection mode of this replica (1 for the mode in use).',
    labelNames: ['mode'],
    registers,
    collect() {
      const s = read();
      if (!s) return;
      for (const mode of CONNECTION_MODES) this.set({ mode }, s.mode === mode ? 1 : 0);
    },
  });
}

export function createMetrics(
  functionName: string,
  options: { processMetrics?: boolean } = {},
): FunctionMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ function_name: functionName });
  if (options.processMetrics) collectDefaultMetrics({ register: registry });
  const registers = [registry];

  let poolStats: (() => PoolStats) | undefined;
  registerPoolGauges(registers, () => poolStats?.());

  return {
    registry,
    requests: new Counter({
      name: 'systembreaker_requests_total',
      help: 'Requests answered by this replica, by HTTP status.',
      labelNames: ['code'],
      registers,
    }),
    errors: new Counter({
      name: 'systembreaker_errors_total',
      help: 'Error responses by stable error code.',
      labelNames: ['error_code'],
      registers,
    }),
    imagesStored: new Counter({
      name: 'systembreaker_images_stored_total',
      help: 'Cats INSERTed by randstore.',
      labelNames: ['encoding'],
      registers,
    }),
    bytesStored: new Counter({
      name: 'systembreaker_bytes_stored_total',
      help: 'Bytes stored by randstore: original image bytes and bytes written to the LONGBLOB.',
      labelNames: ['encoding', 'kind'],
      registers,
    }),
    dbQuerySeconds: new Histogram({
      name: 'systembreaker_db_query_seconds',
      help: 'Time of each database query, waiting for a pool connection included.',
      labelNames: ['query', 'outcome'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    sourceFetchSeconds: new Histogram({
      name: 'systembreaker_source_fetch_seconds',
      help: 'Time to fetch a cat from the cat source.',
      labelNames: ['outcome'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    dbRetries: new Counter({
      name: 'systembreaker_db_retries_total',
      help: 'Statements retried after MySQL refused a connection (budget mode).',
      registers,
    }),
    dbCancelled: new Counter({
      name: 'systembreaker_db_cancelled_total',
      help: 'Statements given up because the caller left or the deadline passed: dropped from the queue (stage=queued, MySQL never saw them) or stopped on the server with KILL QUERY (stage=running).',
      labelNames: ['stage', 'reason'],
      registers,
    }),
    watchPool(stats) {
      poolStats = stats;
    },
  };
}

/** Times an async step into a histogram, labelled ok or by the error's code. */
export async function timed<T, L extends string>(
  histogram: Histogram<L>,
  labels: Partial<Record<L, string>>,
  step: () => Promise<T>,
): Promise<T> {
  const end = histogram.startTimer(labels);
  try {
    const value = await step();
    end({ outcome: 'ok' } as Partial<Record<L, string>>);
    return value;
  } catch (err) {
    end({ outcome: (err as { code?: string }).code ?? 'error' } as Partial<Record<L, string>>);
    throw err;
  }
}
