import { type ChildProcess, spawn } from 'node:child_process';
import type { ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { LiveCommand, LiveEvent } from '../loadgen/src/core/live.ts';
import { type Plan, validatePlan } from '../loadgen/src/core/plan.ts';
import { GatewayError } from './errors.ts';

const LIVE_ENGINE = fileURLToPath(new URL('../loadgen/src/node/live.ts', import.meta.url));

/**
 * The live-controlled server engine: one load run at a time, in a child process, aimed
 * only at this gateway. Its per-second stats go to every listener as Server-Sent Events.
 */
export class LiveLoad {
  private child: ChildProcess | undefined;
  private plan: Plan | null = null;
  private readonly listeners = new Set<ServerResponse>();

  constructor(
    /** The gateway's own URL: the only target the server engine may load. */
    private readonly target: () => string,
    private readonly maxInFlight = 512,
  ) {}

  get running(): boolean {
    return this.child !== undefined;
  }

  state(): LiveEvent {
    return { type: 'state', running: this.running, plan: this.plan };
  }

  start(input: unknown): LiveEvent {
    if (this.child) throw new GatewayError(409, 'LOAD_RUNNING', 'a load run is already going; stop it first');
    const plan = validate(input);
    const child = spawn(process.execPath, ['--import', 'tsx', LIVE_ENGINE], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child = child;
    this.plan = plan;
    child.on('message', (event: LiveEvent) => {
      if (event.type === 'state') this.plan = event.plan;
      this.broadcast(event);
    });
    child.once('exit', () => {
      if (this.child === child) this.child = undefined;
      this.broadcast(this.state());
    });
    this.command({ type: 'start', target: this.target(), plan, maxInFlight: this.maxInFlight });
    return this.state();
  }

  update(input: unknown): LiveEvent {
    if (!this.child || !this.plan) throw new GatewayError(409, 'LOAD_NOT_RUNNING', 'no load run is going');
    const change = input as Partial<Plan>;
    const next = validate({ ...this.plan, ...change, ratio: { ...this.plan.ratio, ...change?.ratio } });
    const update: LiveCommand = {
      type: 'update',
      change: { rate: next.rate, ratio: next.ratio, strategy: next.strategy },
    };
    this.command(update);
    this.plan = next;
    return this.state();
  }

  stop(): LiveEvent {
    this.command({ type: 'stop' });
    return { type: 'state', running: false, plan: this.plan };
  }

  /** Streams events to one listener until it goes away. */
  listen(res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    res.write(`data: ${JSON.stringify(this.state())}\n\n`);
    this.listeners.add(res);
    res.once('close', () => this.listeners.delete(res));
  }

  async close(): Promise<void> {
    for (const res of this.listeners) res.end();
    this.listeners.clear();
    const child = this.child;
    if (!child) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }

  private command(command: LiveCommand): void {
    if (this.child?.connected) this.child.send(command);
  }

  private broadcast(event: LiveEvent): void {
    const frame = `data: ${JSON.stringify(event)}\n\n`;
    for (const res of this.listeners) res.write(frame);
  }
}

function validate(input: unknown): Plan {
  try {
    return validatePlan((input ?? {}) as Partial<Plan>);
  } catch (err) {
    throw new GatewayError(400, 'BAD_REQUEST', (err as Error).message);
  }
}
