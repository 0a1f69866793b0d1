/**
 * The functions and what they answer: the words every side (functions, gateway, engines,
 * app, k6, faults, bench) uses for them. No DOM and no Node imports: this compiles for the
 * browser, k6 and Node alike (contract/tsconfig.json allows nothing else).
 */

/** The functions of the stack, in stack.yml's order. */
export const FUNCTION_NAMES = ['randstore', 'randshow', 'dbstats'] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

/** The functions load is aimed at (dbstats is polled beside the load, not loaded). */
export const TARGET_FUNCTIONS = ['randstore', 'randshow'] as const satisfies readonly FunctionName[];
export type TargetFunction = (typeof TARGET_FUNCTIONS)[number];

/** How randshow picks its row (`?strategy=`). */
export const STRATEGIES = ['order-by-rand', 'random-id', 'pk-subquery'] as const;
export type Strategy = (typeof STRATEGIES)[number];

/** What randshow serves (`?format=`). */
export const SHOW_FORMATS = ['html', 'raw', 'json'] as const;
export type ShowFormat = (typeof SHOW_FORMATS)[number];

/** How randstore stores the image bytes. */
export const STORAGE_ENCODINGS = ['escaped-base64', 'raw'] as const;
export type StorageEncoding = (typeof STORAGE_ENCODINGS)[number];

/** How a replica sizes its pool. */
/**
 * How long, in milliseconds from when it is sent, the sender will wait for the answer. The
 * gateway and the load tools set it; a function does not start work that cannot finish by
 * then and stops what is running when it passes. The idea is Envoy's
 * `x-envoy-expected-rq-timeout-ms`: an upstream told the caller's timeout can give up early.
 */
export const REQUEST_TIMEOUT_HEADER = 'x-request-timeout-ms';

/** The longest timeout a caller may ask for: a day. */
export const MAX_REQUEST_TIMEOUT_MS = 86_400_000;

/** The header's milliseconds, or undefined when it is not a whole number from 1 to a day. */
export function parseRequestTimeout(raw: string): number | undefined {
  const ms = Number(raw.trim());
  return /^\d{1,9}$/.test(raw.trim()) && ms >= 1 && ms <= MAX_REQUEST_TIMEOUT_MS ? ms : undefined;
}

export const CONNECTION_MODES = ['naive', 'budget'] as const;
export type ConnectionMode = (typeof CONNECTION_MODES)[number];

/** randstore's answer (200). */
export interface StoredAnswer {
  id: number;
  bytes: number;
  storedBytes: number;
  mime: string;
  width: number;
  height: number;
  sha256: string;
  encoding: StorageEncoding;
  resized: boolean;
  ms: number;
}

/** What randshow tells about the cat it served (the json format, and headers of the others). */
export interface ShownCat {
  id: number;
  createdAt: string;
  sourceUrl: string;
  mime: string;
  width: number;
  height: number;
  bytes: number;
  storedBytes: number;
  sha256: string;
  encoding: string;
  /** How the row was found: a strategy, or `by-id` for ?id=. */
  strategy: Strategy | 'by-id';
  ms: number;
}

export interface TableStats {
  rows: number;
  blobBytes: number;
  originalBytes: number;
}

export interface ServerStats {
  version: string;
  threadsConnected: number;
  /**
   * Statements running on the server right now, from every client, the one asking not counted
   * (Threads_running − 1): a storm that goes on after its callers left shows here.
   */
  queriesRunning: number;
  maxUsedConnections: number;
  maxConnections: number;
  abortedConnects: number;
  connectionErrorsMaxConnections: number;
  uptimeSeconds: number;
  /**
   * The statement of another connection on the project's database that has run longest now
   * (COMMAND 'Query' in the process list), its text cut to 120 characters; null when none runs.
   */
  longestQuery: LongestQuery | null;
}

export interface LongestQuery {
  seconds: number;
  statement: string;
}

/** One replica's pool. */
export interface PoolStats {
  /** Connections open, in use or idle. */
  total: number;
  /** Open and idle. */
  free: number;
  /** Statements waiting for a connection. */
  queued: number;
  /** The most connections this replica may hold now. */
  limit: number;
  /** naive: a fixed pool; budget: sized from max_connections. */
  mode: ConnectionMode;
}

/** dbstats's answer. */
export interface DbStats extends TableStats {
  server: ServerStats;
  /** The pool of the replica that answered. */
  pool: PoolStats | null;
  ms: number;
}
