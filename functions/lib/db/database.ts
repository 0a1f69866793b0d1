import type { Pool } from 'mysql2/promise';
import type { ConnectionMode } from '../../../contract/functions.ts';
import { AppError } from '../errors.ts';
import { type FunctionMetrics, timed } from '../metrics.ts';
import { boundStatement, flavourOf, type ServerFlavour } from './bounded.ts';
import { classifyDbError } from './pool.ts';
import { Semaphore } from './semaphore.ts';

export interface DatabaseOptions {
  /** Server-side limit on bounded statements; 0 = none. */
  queryTimeoutMs: number;
  /** Statements (so connections) at once; budget mode changes it with setLimit(). */
  concurrency: number;
  mode: ConnectionMode;
  /** budget mode: tries after "too many connections" before giving up. */
  retryAttempts: number;
  metrics?: FunctionMetrics;
  /** Replaceable in tests. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

const BACKOFF_BASE_MS = 50;
const BACKOFF_CAP_MS = 1000;

/**
 * The pool as the repository uses it: every statement holds a permit of our own semaphore
 * while it runs (so the replica never uses more connections than its limit, which budget
 * mode resizes; mysql2's own limit is only a ceiling), is timed into the metrics, has its
 * error mapped to a stable code, is optionally bounded on the server, and — in budget mode —
 * is retried with jittered backoff when the server has no connection left (it never ran then).
 */
export class Database {
  readonly gate: Semaphore;
  private serverFlavour: Promise<ServerFlavour> | undefined;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(
    readonly pool: Pool,
    private readonly options: DatabaseOptions,
  ) {
    this.gate = new Semaphore(options.concurrency);
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.random = options.random ?? Math.random;
  }

  /** How many statements may run at once from now on. */
  setLimit(limit: number): void {
    this.gate.setLimit(limit);
  }

  /** MySQL or MariaDB, learnt from the first answer (and asked again after a failure). */
  flavour(): Promise<ServerFlavour> {
    this.serverFlavour ??= this.run(async () => {
      const [[row]] = (await this.pool.query('SELECT VERSION() AS v')) as unknown as [[{ v: string }]];
      return flavourOf(String(row?.v));
    }).catch((err: unknown) => {
      this.serverFlavour = undefined;
      throw err;
    });
    return this.serverFlavour;
  }

  /** Runs a statement under the server-side time limit. */
  async bounded<T>(name: string, sql: string, values?: unknown[]): Promise<T> {
    const flavour = await this.flavour();
    return this.statement<T>(name, boundStatement(sql, flavour, this.options.queryTimeoutMs), values);
  }

  /** Runs a statement without a time limit (writes: an INSERT half-way is not what a limit is for). */
  statement<T>(name: string, sql: string, values?: unknown[], prepared = false): Promise<T> {
    const step = () =>
      this.run(async () => {
        const [rows] = prepared
          ? await this.pool.execute(sql, values as never)
          : await this.pool.query(sql, values);
        return rows as T;
      });
    return this.options.metrics ? timed(this.options.metrics.dbQuerySeconds, { query: name }, step) : step();
  }

  private async run<T>(work: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const release = await this.gate.acquire();
      try {
        return await work();
      } catch (err) {
        release();
        const mapped = classifyDbError(err);
        const retry =
          this.options.mode === 'budget' &&
          mapped instanceof AppError &&
          mapped.code === 'DB_TOO_MANY_CONNECTIONS' &&
          attempt < this.options.retryAttempts;
        if (!retry) throw mapped;
        this.options.metrics?.dbRetries.inc();
        // Full jitter: replicas that were refused together do not come back together.
        await this.sleep(this.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt));
      } finally {
        release();
      }
    }
  }
}
