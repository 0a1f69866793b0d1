import type { Logger } from '../functions/lib/log.ts';
import { Replica } from './replica.ts';
import type { FunctionSpec } from './stack.ts';

export interface ReplicaSetOptions {
  spec: FunctionSpec;
  /** The compiled function server every replica runs. */
  program: string;
  env: Record<string, string>;
  log: Logger;
  onReplicaLog?: (replicaId: string, line: string) => void;
  startTimeoutMs?: number;
}

/**
 * The replicas of one function: keeps as many running as desired, replaces any that
 * dies, sends new work only to ready ones, and drains the ones it scales away.
 */
export class ReplicaSet {
  readonly name: string;
  /** What it runs: stack.yml's function, or the last deploy's. */
  spec: FunctionSpec;
  desired: number;
  /** Deleted (DELETE /system/functions): no replicas, unknown to the routes until deployed again. */
  removed = false;
  invocationCount = 0;
  private replicas: Replica[] = [];
  private serial = 0;
  private turn = 0;
  private stopped = false;
  private readonly waiters = new Set<() => void>();

  /** The environment each replica starts with: what /system/functions reports as envVars. */
  get env(): Readonly<Record<string, string>> {
    return this.options.env;
  }

  private readonly options: ReplicaSetOptions;

  constructor(options: ReplicaSetOptions) {
    this.options = { ...options };
    this.name = options.spec.name;
    this.spec = options.spec;
    this.desired = 0;
  }

  /**
   * A rolling update, as a Deployment does it: replicas with the new spec and environment
   * start beside the old ones, which keep serving until every new one is ready and then
   * drain. If a new one does not start, the update is undone (the old ones never stopped)
   * and the error says why. The replica count stays, within the new min and max.
   */
  async redeploy(spec: FunctionSpec, env: Record<string, string>): Promise<void> {
    const before = { spec: this.spec, env: this.options.env, removed: this.removed, desired: this.desired };
    const old = this.live;
    for (const r of old) r.retiring = true;
    this.spec = spec;
    this.options.env = env;
    this.removed = false;
    this.stopped = false;
    this.desired = Math.min(spec.scale.max, Math.max(this.desired, spec.scale.min, 1));
    this.reconcile();
    const fresh = this.live;
    try {
      await Promise.all(fresh.map((r) => r.ready));
    } catch (err) {
      this.spec = before.spec;
      this.options.env = before.env;
      this.removed = before.removed;
      this.desired = before.desired;
      for (const r of old) r.retiring = false;
      for (const r of fresh) void r.drain();
      throw err;
    }
    for (const r of old) void r.drain();
  }

  /** Deletes the function: drains every replica; the routes no longer know it until a deploy. */
  async remove(): Promise<void> {
    this.removed = true;
    this.desired = 0;
    await Promise.all(this.replicas.map((r) => r.drain()));
  }

  /** Ready replicas: the ones that take traffic. */
  get available(): number {
    return this.replicas.filter((r) => r.state === 'ready').length;
  }

  /** Replicas of the current deploy that exist and are not being drained. */
  get live(): Replica[] {
    return this.replicas.filter(
      (r) => !r.retiring && (r.state === 'starting' || r.state === 'ready' || r.state === 'probing'),
    );
  }

  all(): readonly Replica[] {
    return this.replicas;
  }

  scaleTo(replicas: number): void {
    if (this.stopped || this.removed) return;
    this.desired = replicas;
    this.reconcile();
  }

  private reconcile(): void {
    const live = this.live;
    for (let i = live.length; i < this.desired; i++) this.spawn();
    if (live.length > this.desired) {
      // Drop replicas that are still starting first, then the newest ready ones.
      const victims = [...live]
        .sort(
          (a, b) => Number(a.state === 'ready') - Number(b.state === 'ready') || b.startedAt - a.startedAt,
        )
        .slice(0, live.length - this.desired);
      for (const r of victims) void r.drain();
    }
  }

  private spawn(): Replica {
    const id = `${this.name}-${++this.serial}`;
    const replica = new Replica({
      id,
      program: this.options.program,
      env: this.options.env,
      ...(this.options.onReplicaLog ? { onLog: this.options.onReplicaLog } : {}),
      ...(this.options.startTimeoutMs ? { startTimeoutMs: this.options.startTimeoutMs } : {}),
    });
    this.replicas.push(replica);
    replica.ready.then(
      () => {
        this.options.log.info('replica ready', { replica: id, pid: replica.pid, url: replica.url });
        for (const wake of this.waiters) wake();
      },
      (err: unknown) => {
        // A replica stopped while it was starting is no failure.
        if (!replica.drainRequested) this.options.log.warn('replica failed to start', { replica: id, err });
      },
    );
    void replica.exited.then((code) => {
      this.replicas = this.replicas.filter((r) => r !== replica);
      if (!this.stopped && !replica.drainRequested) {
        this.options.log.warn('replica died; replacing it', { replica: id, code });
        // A replica that cannot start at all would otherwise be respawned in a tight loop.
        setTimeout(() => this.reconcile(), Date.now() - replica.startedAt < 2000 ? 1000 : 0).unref();
      }
    });
    return replica;
  }

  /**
   * Takes a replica that failed a request out of the rotation at once and asks its health
   * check: a replica that answers goes back in (the failure was the request's, e.g. a body
   * it refused); one that does not is killed, and its exit replaces it.
   */
  markFailed(replica: Replica): void {
    if (replica.state !== 'ready') return;
    replica.state = 'probing';
    void fetch(`${replica.url}/_/health`, { signal: AbortSignal.timeout(1000) })
      .then((res) => res.ok)
      .catch(() => false)
      .then((healthy) => {
        if (replica.state !== 'probing') return;
        if (healthy) {
          replica.state = 'ready';
          for (const wake of this.waiters) wake();
          return;
        }
        this.options.log.warn('replica failed a request and its health check; replacing it', {
          replica: replica.id,
        });
        replica.kill('SIGKILL');
      });
  }

  /** The ready replica with the fewest requests in flight (ties taken in turn), or none. */
  pick(): Replica | undefined {
    let best: Replica | undefined;
    const n = this.replicas.length;
    for (let i = 0; i < n; i++) {
      const r = this.replicas[(this.turn + i) % n] as Replica;
      if (r.state === 'ready' && (!best || r.inFlight < best.inFlight)) best = r;
    }
    this.turn = (this.turn + 1) % Math.max(n, 1);
    return best;
  }

  /** Waits up to timeoutMs for a ready replica (a new one starting, or one being replaced). */
  async waitForReplica(timeoutMs: number): Promise<Replica | undefined> {
    const now = this.pick();
    if (now || this.desired === 0 || timeoutMs <= 0) return now;
    return new Promise((resolve) => {
      const wake = () => {
        const r = this.pick();
        if (!r) return;
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve(r);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(wake);
        resolve(this.pick());
      }, timeoutMs);
      this.waiters.add(wake);
    });
  }

  /** Drains every replica and stops replacing them. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.desired = 0;
    await Promise.all(this.replicas.map((r) => r.drain()));
  }
}
