import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { TARGET_FUNCTIONS } from '../../contract/functions.ts';
import type { FunctionSummary } from '../../contract/results.ts';
import { createLogger } from '../../functions/lib/log.ts';
import { parseGatewayConfig } from '../../gateway/config.ts';
import { type LocalStack, startLocalStack } from '../../gateway/local-stack.ts';
import { processUsage } from '../../gateway/usage.ts';
import { round } from '../stats.ts';

const execFileP = promisify(execFile);
const script = (name: string) => fileURLToPath(new URL(`../${name}`, import.meta.url));

export interface StackProbe {
  rate: number;
  held: boolean;
  achieved: number;
  p99Ms: number;
  failed: number;
  dropped: number;
  /** The failures by code. */
  errors: Record<string, number>;
}

export interface StackRow {
  replicas: number;
  /** The highest rate held: all of it answered within 1 %, nothing failed or dropped, p99 under 1 s. */
  maxRate: number;
  probes: StackProbe[];
  /** Each process's share of the CPU the stack used while it held that rate. */
  cpuShare: Record<string, number>;
  /** CPU seconds per 1,000 requests, all processes together, at that rate. */
  cpuPer1000: number;
}

/** The local cat source in a process of its own, so that its CPU is its own. */
async function startCatSourceProcess(): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', script('../catsource/main.ts')], {
    env: { ...process.env, CAT_SOURCE_PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await once(proc.stdout as NodeJS.ReadableStream, 'data')) as [Buffer];
  const url = /(http:\/\/\S+)/.exec(line.toString())?.[1];
  if (!url) throw new Error(`the cat source said ${line}`);
  return { url, proc };
}

/** mysqld's process: the container's (Docker) or the private server's, found by its port. */
async function mysqlPid(stack: LocalStack): Promise<number | undefined> {
  if (stack.mysql.origin === 'docker') {
    const { stdout: id } = await execFileP('docker', ['ps', '-q', '--filter', `publish=${stack.mysql.port}`]);
    const { stdout } = await execFileP('docker', ['inspect', '-f', '{{.State.Pid}}', id.trim()]);
    return Number(stdout.trim()) || undefined;
  }
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (/mysqld|mariadbd/.test(cmd) && cmd.includes(`--port=${stack.mysql.port}`)) return Number(pid);
  }
  return undefined;
}

/** One constant run (1 : 3, random-id) from the load process: its summary and its own CPU seconds. */
async function loadRun(target: string, rate: number, seconds: number) {
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', script('servers/load-child.ts'), target, String(rate), String(seconds)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  proc.stdout?.on('data', (d) => {
    out += d;
  });
  await once(proc, 'exit');
  return JSON.parse(out) as { summary: FunctionSummary[]; cpuSeconds: number };
}

function heldBy(summary: FunctionSummary[], rate: number, seconds: number): StackProbe {
  const completed = summary.reduce((n, s) => n + s.completed, 0);
  const failed = summary.reduce((n, s) => n + s.completed - s.byClass['2xx'], 0);
  const dropped = summary.reduce((n, s) => n + s.dropped, 0);
  const p99Ms = Math.max(...summary.map((s) => s.p99));
  const held = completed >= 0.99 * rate * seconds && failed === 0 && dropped === 0 && p99Ms < 1000;
  const errors: Record<string, number> = {};
  for (const s of summary)
    for (const [code, n] of Object.entries(s.byCode)) errors[code] = (errors[code] ?? 0) + n;
  return { rate, held, achieved: round(completed / seconds, 1), p99Ms, failed, dropped, errors };
}

/** The stack's processes by part, read now. */
function parts(stack: LocalStack, cat: ChildProcess, mysql: number | undefined): Record<string, number[]> {
  const replicas = (fn: string) =>
    (stack.gateway.sets.get(fn)?.live ?? []).flatMap((r) => (r.pid === undefined ? [] : [r.pid]));
  return {
    gateway: [process.pid],
    'randstore replicas': replicas('randstore'),
    'randshow replicas': replicas('randshow'),
    'dbstats replica': replicas('dbstats'),
    MySQL: mysql === undefined ? [] : [mysql],
    'cat source': cat.pid === undefined ? [] : [cat.pid],
  };
}

async function cpuSeconds(pids: Record<string, number[]>): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [part, list] of Object.entries(pids)) {
    const used = await Promise.all(list.map((pid) => processUsage(pid)));
    out[part] = used.reduce((n, u) => n + (u?.cpuSeconds ?? 0), 0);
  }
  return out;
}

/** One probe at `rate`: whether the stack held it, and the CPU each part used meanwhile. */
async function probe(stack: LocalStack, pids: Record<string, number[]>, rate: number, seconds: number) {
  const before = await cpuSeconds(pids);
  const { summary, cpuSeconds: load } = await loadRun(stack.gateway.url, rate, seconds);
  const after = await cpuSeconds(pids);
  const cpu: Record<string, number> = { 'load engine': load };
  for (const part of Object.keys(after)) cpu[part] = (after[part] ?? 0) - (before[part] ?? 0);
  return { probe: heldBy(summary, rate, seconds), cpu };
}

/** Up by half while held, then two halvings of the gap: at most ten probes. */
async function maxRate(stack: LocalStack, pids: Record<string, number[]>, seconds: number, start: number) {
  const probes: StackProbe[] = [];
  let best: { rate: number; cpu: Record<string, number> } | undefined;
  let failedAt: number | undefined;
  for (let rate = start; failedAt === undefined && probes.length < 8; rate = Math.round(rate * 1.5)) {
    const p = await probe(stack, pids, rate, seconds);
    probes.push(p.probe);
    if (p.probe.held) best = { rate, cpu: p.cpu };
    else failedAt = rate;
  }
  for (let i = 0; i < 2 && best && failedAt !== undefined; i++) {
    const rate = Math.round((best.rate + failedAt) / 2);
    const p = await probe(stack, pids, rate, seconds);
    probes.push(p.probe);
    if (p.probe.held) best = { rate, cpu: p.cpu };
    else failedAt = rate;
  }
  return { best, probes };
}

/**
 * The whole local stack's highest sustained rate at 1 : 3 (random-id, scaling off) with 1, 2
 * and 4 replicas per function, and where a request's CPU goes: the gateway (this process), the
 * replicas, MySQL, the cat source and the load engine (each in a process of its own).
 */
export async function benchStack(
  seconds: number,
  env: NodeJS.ProcessEnv,
  counts = [1, 2, 4],
): Promise<StackRow[]> {
  const cat = await startCatSourceProcess();
  const rows: StackRow[] = [];
  try {
    for (const replicas of counts) {
      const stack = await startLocalStack({
        config: parseGatewayConfig({ GATEWAY_PORT: '0', CAT_SOURCE_PORT: '0', SCALING_POLICY: 'off' }),
        persistent: false,
        env,
        log: createLogger('silent'),
        replicaEnv: { LOG_LEVEL: 'warn', CAT_SOURCE_URL: `${cat.url}` },
      });
      try {
        for (let i = 0; i < 20; i++)
          await (await fetch(`${stack.gateway.url}/function/randstore`, { method: 'POST' })).arrayBuffer();
        for (const fn of TARGET_FUNCTIONS) stack.gateway.sets.get(fn)?.scaleTo(replicas);
        const readyBy = Date.now() + 60_000;
        while (TARGET_FUNCTIONS.some((fn) => (stack.gateway.sets.get(fn)?.available ?? 0) < replicas)) {
          if (Date.now() > readyBy)
            throw new Error(`${replicas} replicas per function not ready within 60 s`);
          await new Promise((r) => setTimeout(r, 200));
        }
        // New replicas compile their hot paths and open their pools on their first calls.
        await loadRun(stack.gateway.url, 100, 3);
        const pids = parts(stack, cat.proc, await mysqlPid(stack));
        const { best, probes } = await maxRate(stack, pids, seconds, 100);
        const total = Object.values(best?.cpu ?? {}).reduce((a, b) => a + b, 0);
        rows.push({
          replicas,
          maxRate: best?.rate ?? 0,
          probes,
          cpuShare: Object.fromEntries(
            Object.entries(best?.cpu ?? {}).map(([k, v]) => [k, total > 0 ? round(v / total, 3) : 0]),
          ),
          cpuPer1000: best ? round((total / (best.rate * seconds)) * 1000, 2) : 0,
        });
      } finally {
        await stack.stop();
      }
    }
  } finally {
    cat.proc.kill('SIGTERM');
  }
  return rows;
}
