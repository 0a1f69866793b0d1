import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface FunctionProcess {
  proc: ChildProcess;
  url: string;
  /** Everything the process wrote to stderr and stdout so far. */
  output(): string;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `functions/server/main.ts` as a real process on a free port, as a replica runs. */
export async function spawnFunction(
  env: Record<string, string>,
  timeoutMs = 20_000,
): Promise<FunctionProcess> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'functions/server/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', http_port: '0', HTTP_HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = collectOutput(proc);

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`function server did not start:\n${output()}`)),
      timeoutMs,
    );
    const check = () => {
      const listening = logLines(output()).find((l) => l.msg === 'listening');
      if (typeof listening?.url === 'string') {
        clearTimeout(timer);
        resolve(listening.url);
      }
    };
    proc.stdout?.on('data', check);
    proc.stderr?.on('data', check);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`function server exited with ${code}:\n${output()}`));
    });
  });

  return {
    proc,
    url,
    output,
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      const exited = once(proc, 'exit');
      proc.kill(signal);
      const [code] = (await exited) as [number | null];
      return code;
    },
  };
}

/** Runs a process to its end and returns its exit code and output. */
export async function runToEnd(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  const proc = spawn(process.execPath, args, { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env } });
  const output = collectOutput(proc);
  const [code] = (await once(proc, 'exit')) as [number | null];
  return { code, output: output() };
}

/** Collects what a process writes to stdout and stderr; call the result to read it so far. */
export function collectOutput(proc: ChildProcess): () => string {
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString('utf8');
  };
  proc.stdout?.on('data', collect);
  proc.stderr?.on('data', collect);
  return () => output;
}

/** The JSON log lines in a process's output. */
export function logLines(output: string): Array<Record<string, unknown>> {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}

/** Whether a process of this pid still exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
