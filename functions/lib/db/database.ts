import type { Pool, PoolConnection } from 'mysql2/promise';
import type { ConnectionMode } from '../../../contract/functions.ts';
import { type Call, UNBOUNDED } from '../call.ts';
import { AppError } from '../errors.ts';
import type { Logger } from '../log.ts';
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
  /**
   * Most statements that may wait for a connection; past it a request is refused at once
   * with 503 DB_QUEUE_FULL. Unset: only the deadline rule bounds the queue (see admit()).
   */
  queueLimit?: number;
  /** Stops a running statement on the server (KILL QUERY from a connection of its own). */
  killQuery?: (threadId: number) => Promise<void>;
  metrics?: FunctionMetrics;
  log?: Logger;
  /** Replaceable in tests. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** The clock calls' deadlines are on (performance.now()); replaceable in tests. */
  now?: () => number;
}

const BACKOFF_BASE_MS = 50;
const BACKOFF_CAP_MS = 1000;
/** Weight of the newest statement in the running mean of how long one holds its connection. */
const HOLD_EWMA_WEIGHT = 0.2;

type Stage = 'queued' | 'running';

/**
 * The pool as the repository uses it: every statement holds a permit of our own semaphore
 * while it runs (so the replica never uses more connections than its limit, which budget
 * mode resizes; mysql2's own limit is only a ceiling), is timed into the metrics, has its
 * error mapped to a stable code, is optionally bounded on the server, and — in budget mode —
 * is retried with jittered backoff when the server has no connection left (it never ran then).
 *
 * Each statement also keeps to its request's Call: one that would wait past its deadline is
 * refused before it queues (503 DB_QUEUE_FULL), one whose caller left or whose deadline passed
 * while it waited leaves the queue without touching MySQL, and one running when that happens
 * is stopped on the server (KILL QUERY), so no connection keeps working for nobody.
 */
export class Database {
  readonly gate: Semaphore;
  private serverFlavour: Promise<ServerFlavour> | undefined;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly now: () => number;
  /** Running mean of how long a request's statement holds its permit, in ms; undefined until one ran. */
  private holdMs: number | undefined;
  /** When each statement holding a permit now took it, on that clock. */
  private readonly holding = new Set<{ since: number }>();
  /** Requests' statements waiting for a permit, in order, and how to refuse one early. */
  private readonly waiting = new Set<{ deadline: number; shed: AbortController }>();

  constructor(
    readonly pool: Pool,
    private readonly options: DatabaseOptions,
  ) {
    this.gate = new Semaphore(options.concurrency);
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.random = options.random ?? Math.random;
    this.now = options.now ?? (() => performance.now());
  }

  /** How many statements may run at once from now on. */
  setLimit(limit: number): void {
    this.gate.setLimit(limit);
  }

  /** MySQL or MariaDB, learnt from the first answer (and asked again after a failure). */
  flavour(): Promise<ServerFlavour> {
    this.serverFlavour ??= this.run(UNBOUNDED, async (conn) => {
      const [[row]] = (await conn.query('SELECT VERSION() AS v')) as unknown as [[{ v: string }]];
      return flavourOf(String(row?.v));
    }).catch((err: unknown) => {
      this.serverFlavour = undefined;
      throw err;
    });
    return this.serverFlavour;
  }

  /** Runs a statement under the server-side time limit, or the time its call has left if that is shorter. */
  async bounded<T>(name: string, sql: string, values?: unknown[], call: Call = UNBOUNDED): Promise<T> {
    const flavour = await this.flavour();
    const limitMs = this.options.queryTimeoutMs > 0 ? this.options.queryTimeoutMs : Number.POSITIVE_INFINITY;
    return this.timed(name, () =>
      this.run(call, async (conn) => {
        const callLeft = call.deadline - this.now();
        const left = Math.min(limitMs, callLeft);
        // At least 1 ms: MariaDB reads max_statement_time=0 as "no limit".
        const text = Number.isFinite(left) ? boundStatement(sql, flavour, Math.max(1, left)) : sql;
        try {
          const [rows] = await conn.query(text, values);
          return rows as T;
        } catch (err) {
          // The limit was the call's deadline, not the query limit: say so, as the timer would have.
          const mapped = classifyDbError(err);
          if (callLeft < limitMs && mapped instanceof AppError && mapped.code === 'DB_TIMEOUT') {
            throw new AppError(
              'DEADLINE_EXCEEDED',
              `the request's deadline passed while its query ran; MySQL stopped it`,
              {
                cause: err,
              },
            );
          }
          throw err;
        }
      }),
    );
  }

  /** Runs a statement without a time limit of its own (writes: they are stopped only with their call). */
  statement<T>(
    name: string,
    sql: string,
    values?: unknown[],
    prepared = false,
    call: Call = UNBOUNDED,
  ): Promise<T> {
    return this.timed(name, () =>
      this.run(call, async (conn) => {
        const [rows] = prepared ? await conn.execute(sql, values as never) : await conn.query(sql, values);
        return rows as T;
      }),
    );
  }

  private timed<T>(name: string, step: () => Promise<T>): Promise<T> {
    return this.options.metrics ? timed(this.options.metrics.dbQuerySeconds, { query: name }, step) : step();
  }

  /**
   * Refuses a statement that would wait longer than its call has left: with `waiting`
   * statements ahead and `limit` running at a time, each holding a connection for about the
   * running mean (the query time limit before any has run; at least as long as the oldest
   * statement running now has already run, so a database that just slowed down counts at
   * once), it would start after (waiting + 1) / limit of them and needs one more to finish.
   */
  private admit(call: Call): void {
    const waiting = this.gate.waiting;
    if (this.gate.inUse < this.gate.limit && waiting === 0) return;
    const { queueLimit } = this.options;
    if (queueLimit !== undefined && waiting >= queueLimit) {
      throw this.queueFull(
        `${waiting} statements already wait for a connection (DB_QUEUE_LIMIT ${queueLimit})`,
      );
    }
    const late = this.tooLate(call.deadline, waiting, this.expectedHoldMs());
    if (late) throw late;
  }

  /** How long a statement holds its connection, as far as can be told now; undefined: nothing to go by. */
  private expectedHoldMs(): number | undefined {
    const now = this.now();
    const oldest = Math.max(0, ...[...this.holding].map((h) => now - h.since));
    const mean = this.holdMs ?? (this.options.queryTimeoutMs || undefined);
    return mean === undefined ? undefined : Math.max(mean, oldest);
  }

  /** DB_QUEUE_FULL when, with `ahead` statements before it, one would not finish by `deadline`. */
  private tooLate(deadline: number, ahead: number, holdMs: number | undefined): AppError | undefined {
    if (holdMs === undefined || !Number.isFinite(deadline)) return undefined;
    const expectedMs = ((ahead + 1) / this.gate.limit + 1) * holdMs;
    const leftMs = deadline - this.now();
    if (expectedMs <= leftMs) return undefined;
    return this.queueFull(
      `${ahead} statements wait for ${this.gate.limit} connections; this one would need about ${Math.round(expectedMs)} ms and its caller waits ${Math.max(0, Math.round(leftMs))} ms`,
    );
  }

  /**
   * Looks at the queue again once a statement finished (the hold time is better known now):
   * a statement that can no longer finish before its deadline is refused now, not when the
   * deadline passes.
   */
  private reviewQueue(): void {
    const holdMs = this.expectedHoldMs();
    let ahead = 0;
    for (const waiter of this.waiting) {
      const late = this.tooLate(waiter.deadline, ahead, holdMs);
      if (late) {
        this.waiting.delete(waiter);
        waiter.shed.abort(late);
      } else {
        ahead++;
      }
    }
  }

  /**
   * At the front of the queue: a statement whose call has less time left than a statement
   * takes on average is not started (it would be stopped half-way, having cost MySQL the work).
   */
  private worthStarting(call: Call): void {
    const leftMs = call.deadline - this.now();
    if (this.holdMs === undefined || leftMs >= this.holdMs) return;
    this.options.metrics?.dbCancelled.inc({ stage: 'queued', reason: 'deadline' });
    throw new AppError(
      'DEADLINE_EXCEEDED',
      `not started: a statement takes about ${Math.round(this.holdMs)} ms and the request has ${Math.max(0, Math.round(leftMs))} ms left`,
    );
  }

  private queueFull(why: string): AppError {
    return new AppError('DB_QUEUE_FULL', `this replica is overloaded: ${why}`, {
      headers: { 'retry-after': '1' },
    });
  }

  private cancelled(call: Call, stage: Stage): unknown {
    const reason = call.signal.reason;
    const code = reason instanceof AppError ? reason.code : 'CLIENT_CLOSED';
    this.options.metrics?.dbCancelled.inc({
      stage,
      reason: code === 'DEADLINE_EXCEEDED' ? 'deadline' : 'caller_gone',
    });
    return reason;
  }

  private async run<T>(call: Call, work: (conn: PoolConnection) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      if (call.signal.aborted) throw this.cancelled(call, 'queued');
      this.admit(call);
      let release: () => void;
      const waiter = { deadline: call.deadline, shed: new AbortController() };
      const bounded = call !== UNBOUNDED && Number.isFinite(call.deadline);
      if (bounded) this.waiting.add(waiter);
      try {
        release = await this.gate.acquire(
          call === UNBOUNDED ? undefined : AbortSignal.any([call.signal, waiter.shed.signal]),
        );
      } catch (err) {
        if (call.signal.aborted) throw this.cancelled(call, 'queued');
        if (waiter.shed.signal.aborted) throw waiter.shed.signal.reason;
        throw err;
      } finally {
        this.waiting.delete(waiter);
      }
      try {
        this.worthStarting(call);
      } catch (err) {
        release();
        throw err;
      }
      const done = this.hold(call, release);
      try {
        return await this.onConnection(call, work);
      } catch (err) {
        done();
        // Its caller is gone: err already says why (onConnection), and nothing is retried for nobody.
        if (call.signal.aborted) throw err;
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
        done();
      }
    }
  }

  /** Marks a permit held from now; the function returned gives it back (once) and measures the hold. */
  private hold(call: Call, release: () => void): () => void {
    const held = { since: this.now() };
    this.holding.add(held);
    return () => {
      if (!this.holding.delete(held)) return;
      // Only requests' statements: they are what the queue holds (a start-up probe is not).
      if (call !== UNBOUNDED) {
        const ms = this.now() - held.since;
        this.holdMs = this.holdMs === undefined ? ms : this.holdMs + HOLD_EWMA_WEIGHT * (ms - this.holdMs);
        if (this.waiting.size > 0) this.reviewQueue();
      }
      release();
    };
  }

  /**
   * Takes a connection, runs the work on it and gives it back. If the call ends while the
   * work runs, the statement is stopped on the server, and the connection is given back only
   * once the stop is done, so the KILL cannot reach a later statement on it.
   */
  private async onConnection<T>(call: Call, work: (conn: PoolConnection) => Promise<T>): Promise<T> {
    if (call.signal.aborted) throw this.cancelled(call, 'queued');
    const conn = await this.pool.getConnection();
    let stopping: Promise<void> | undefined;
    const stop = () => {
      const { killQuery, log } = this.options;
      stopping = killQuery?.(conn.threadId).catch((err: unknown) => {
        log?.warn('could not stop a query whose caller is gone', { threadId: conn.threadId, err });
      });
    };
    try {
      if (call.signal.aborted) throw this.cancelled(call, 'queued');
      // UNBOUNDED never fires, and every statement outside a request shares it.
      if (call !== UNBOUNDED) call.signal.addEventListener('abort', stop, { once: true });
      try {
        return await work(conn);
      } catch (err) {
        if (call.signal.aborted) throw this.cancelled(call, 'running');
        throw err;
      }
    } finally {
      call.signal.removeEventListener('abort', stop);
      if (stopping) await stopping;
      conn.release();
    }
  }
}
