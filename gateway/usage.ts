import { readFile } from 'node:fs/promises';
import type { FunctionUsage } from '../contract/openfaas.ts';

/**
 * Clock ticks per second of /proc/<pid>/stat's utime and stime: USER_HZ, 100 on Linux (proc(5):
 * "measured in clock ticks (divide by sysconf(_SC_CLK_TCK))"; the kernel reports 100 to user
 * space whatever its internal HZ).
 */
const CLOCK_TICKS = 100;
/** Rates over a shorter span than this are noise: the previous rate stands until then. */
const MIN_SPAN_MS = 500;

/** A process's CPU seconds (user + system) and resident bytes, from /proc; undefined off Linux or once it is gone. */
export async function processUsage(
  pid: number,
  /** One thread's CPU time instead of the whole process's (RSS stays the process's). */
  tid?: number,
): Promise<{ cpuSeconds: number; rssBytes: number } | undefined> {
  try {
    const [stat, status] = await Promise.all([
      readFile(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8'),
      readFile(`/proc/${pid}/status`, 'utf8'),
    ]);
    // The command name is in parentheses and may hold spaces: the fields start after the last ')'.
    // After it: state (3), …, utime (14), stime (15), counted from 1 as proc(5) counts them.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[14 - 3]);
    const stime = Number(fields[15 - 3]);
    const rssKb = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1]);
    if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
    return { cpuSeconds: (utime + stime) / CLOCK_TICKS, rssBytes: Number.isFinite(rssKb) ? rssKb * 1024 : 0 };
  } catch {
    return undefined;
  }
}

/**
 * A function's usage as OpenFaaS reports it in FunctionStatus.usage (faas-provider
 * types.FunctionUsage: CPU "equivalent to Kubernetes' concept of millicores", memory in
 * bytes, both summed over the replicas): each replica's CPU seconds per second since it was
 * last measured, × 1000.
 */
export class UsageMeter {
  private readonly last = new Map<number, { at: number; cpuSeconds: number; millicores?: number }>();

  constructor(
    private readonly read: typeof processUsage = processUsage,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** The usage of these processes now; undefined when none could be read (off Linux). */
  async measure(pids: readonly number[]): Promise<FunctionUsage | undefined> {
    const samples = await Promise.all(pids.map(async (pid) => ({ pid, usage: await this.read(pid) })));
    const at = this.now();
    let cpu = 0;
    let memory = 0;
    let read = 0;
    for (const { pid, usage } of samples) {
      if (!usage) continue;
      read++;
      memory += usage.rssBytes;
      const before = this.last.get(pid);
      if (before && at - before.at < MIN_SPAN_MS) {
        cpu += before.millicores ?? 0;
        continue;
      }
      const millicores = before
        ? (1000 * (usage.cpuSeconds - before.cpuSeconds) * 1000) / (at - before.at)
        : undefined;
      this.last.set(pid, {
        at,
        cpuSeconds: usage.cpuSeconds,
        ...(millicores === undefined ? {} : { millicores }),
      });
      cpu += millicores ?? 0;
    }
    // Processes that are gone are forgotten.
    for (const pid of this.last.keys()) if (!pids.includes(pid)) this.last.delete(pid);
    return read === 0 ? undefined : { cpu: Math.round(cpu), totalMemoryBytes: memory };
  }
}
