import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Pool } from 'undici';
import { replicaArgs } from './function-bundle.ts';

/** `probing`: out of rotation after a failed request until its health check answers. */
export type ReplicaState = 'starting' | 'ready' | 'probing' | 'draining' | 'exited';

export interface ReplicaOptions {
  id: string;
  /** The compiled function server (function-bundle.ts: compiledEntry). */
  program: string;
  env: Record<string, string>;
  /** Receives each line the replica logs (JSON lines), tagged with the replica id. */
  onLog?: (replicaId: string, line: string) => void;
  startTimeoutMs?: number;
  drainTimeoutMs?: number;
}

/**
 * One replica: a real process running the function server, as a pod runs the image.
 * It listens on a free port on 127.0.0.1 and says where in its "listening" log line.
 */
export class Replica {
  readonly id: string;
  readonly proc: ChildProcess;
  state: ReplicaState = 'starting';
  /** Set once the gateway asked it to stop: its exit is then expected. */
  drainRequested = false;
  /** Of an older deploy: serves until the new replicas are ready, then drains. */
  retiring = false;
  /** The last line it wrote: why it stopped, when it did. */
  lastLine = '';
  inFlight = 0;
  url = '';
  dispatcher: Pool | undefined;
  readonly ready: Promise<void>;
  readonly exited: Promise<number | null>;
  readonly startedAt = Date.now();

  constructor(private readonly options: ReplicaOptions) {
    this.id = options.id;
    this.proc = spawn(process.execPath, replicaArgs(options.program), {
      env: { ...options.env, http_port: '0', HTTP_HOST: '127.0.0.1' },
      // The IPC channel lets the replica notice when the gateway dies and exit with it.
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // A process group of its own: a terminal's Ctrl-C reaches the gateway, which drains its
      // replicas, not the replicas themselves (they would die and be replaced mid-shutdown).
      detached: true,
    });
    this.exited = new Promise((resolve) =>
      this.proc.once('exit', (code) => {
        this.state = 'exited';
        void this.dispatcher?.destroy();
        resolve(code);
      }),
    );
    const lines = [this.proc.stdout, this.proc.stderr].map((s) =>
      createInterface({ input: s as NodeJS.ReadableStream }),
    );
    this.ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`replica ${this.id} did not start in ${options.startTimeoutMs ?? 30_000} ms`));
        this.proc.kill('SIGKILL');
      }, options.startTimeoutMs ?? 30_000);
      for (const rl of lines) {
        rl.on('line', (line) => {
          options.onLog?.(this.id, line);
          if (line.trim()) this.lastLine = line.trim();
          if (this.state !== 'starting' || !line.includes('"listening"')) return;
          try {
            const entry = JSON.parse(line) as { msg?: string; url?: string };
            if (entry.msg !== 'listening' || !entry.url) return;
            this.url = entry.url;
            this.dispatcher = new Pool(entry.url, { connections: 256, keepAliveTimeout: 30_000 });
            this.state = 'ready';
            clearTimeout(timer);
            resolve();
          } catch {}
        });
      }
      void this.exited.then((code) => {
        clearTimeout(timer);
        const said = this.lastLine ? `: ${this.lastLine.slice(0, 300)}` : '';
        reject(new Error(`replica ${this.id} exited with ${code} before it was ready${said}`));
      });
    });
    this.ready.catch(() => {});
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  /** SIGTERM: the function server finishes in-flight requests, closes its pool and exits. */
  async drain(): Promise<void> {
    this.drainRequested = true;
    if (this.state === 'exited') return;
    this.state = 'draining';
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), this.options.drainTimeoutMs ?? 20_000);
    await this.exited;
    clearTimeout(timer);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.proc.kill(signal);
  }
}
