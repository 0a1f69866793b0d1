import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { EngineCommand, EngineEvent } from '../contract/engine.ts';
import type { DemoRule } from '../contract/openfaas.ts';
import { mergePlan, type Plan, PlanError, parsePlan, parsePlanChange } from '../contract/plan.ts';
import { Broadcast } from './broadcast.ts';
import { GatewayError } from './errors.ts';

const LIVE_ENGINE = fileURLToPath(new URL('../loadgen/src/node/live.ts', import.meta.url));
/** A call of the server engine without an answer by then counts as TIMEOUT. */
const TIMEOUT_MS = 30_000;

/** A plan or change from a request body; a bad one is a 400 naming the field. */
function checked<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof PlanError) throw new GatewayError('BAD_REQUEST', err.message);
    throw err;
  }
}

/**
 * The live-controlled server engine: one load run at a time, in a child process, aimed
 * only at this gateway. Its events (contract/engine.ts) go to every subscriber.
 */
export class LiveLoad {
  private child: ChildProcess | undefined;
  private plan: Plan | null = null;
  private readonly events = new Broadcast<EngineEvent>();

  constructor(
    /** The gateway's own URL: the only target the server engine may load. */
    private readonly target: () => string,
    private readonly maxInFlight = 512,
    /** The gateway's own alert rule, which a seed-demo run is shaped from. */
    private readonly demoRule?: () => DemoRule,
  ) {}

  get running(): boolean {
    return this.child !== undefined;
  }

  state(): EngineEvent {
    return { type: 'state', running: this.running, plan: this.plan };
  }

  start(input: unknown): EngineEvent {
    if (this.child) throw new GatewayError('LOAD_RUNNING', 'a load run is already going; stop it first');
    const plan = checked(() => parsePlan(input));
    const child = spawn(process.execPath, ['--import', 'tsx', LIVE_ENGINE], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child = child;
    this.plan = plan;
    child.on('message', (event: EngineEvent) => {
      if (event.type === 'state') this.plan = event.plan;
      this.broadcast(event);
    });
    child.once('exit', () => {
      if (this.child === child) this.child = undefined;
      this.broadcast(this.state());
    });
    this.command({
      type: 'start',
      target: this.target(),
      plan,
      maxInFlight: this.maxInFlight,
      timeoutMs: TIMEOUT_MS,
      ...(this.demoRule ? { demoRule: this.demoRule() } : {}),
    });
    return this.state();
  }

  update(input: unknown): EngineEvent {
    const plan = this.plan;
    if (!this.child || !plan) throw new GatewayError('LOAD_NOT_RUNNING', 'no load run is going');
    const change = checked(() => parsePlanChange(input));
    this.command({ type: 'update', change });
    this.plan = mergePlan(plan, change);
    return this.state();
  }

  stop(): EngineEvent {
    this.command({ type: 'stop' });
    return { type: 'state', running: false, plan: this.plan };
  }

  /**
   * Calls `listener` with every event from now on, starting with the current state, and
   * `onClose` when the gateway closes; returns the unsubscribe.
   */
  subscribe(listener: (event: EngineEvent) => void, onClose: () => void): () => void {
    listener(this.state());
    return this.events.subscribe(listener, onClose);
  }

  async close(): Promise<void> {
    this.events.close();
    const child = this.child;
    if (!child) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }

  private command(command: EngineCommand): void {
    if (this.child?.connected) this.child.send(command);
  }

  private broadcast(event: EngineEvent): void {
    this.events.send(event);
  }
}
