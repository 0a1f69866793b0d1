import { describe, expect, it } from 'vitest';
import { processUsage, UsageMeter } from '../../gateway/usage.ts';

describe('function usage (FunctionStatus.usage)', () => {
  it('reads a live process’s CPU seconds and resident memory from /proc', async () => {
    // Some CPU of our own first, so there is something to read.
    let x = 0;
    for (let i = 0; i < 2e6; i++) x += Math.sqrt(i);
    const usage = await processUsage(process.pid);
    expect(x).toBeGreaterThan(0);
    expect(usage?.cpuSeconds).toBeGreaterThan(0);
    expect(usage?.rssBytes).toBeGreaterThan(10 * 1024 * 1024);
    // Within what the process itself says it used (user + system, µs).
    const own = process.cpuUsage();
    expect(usage?.cpuSeconds).toBeLessThanOrEqual((own.user + own.system) / 1e6 + 0.05);
    expect(await processUsage(2 ** 22 + 12345)).toBeUndefined();
  });

  it('sums the replicas’ CPU as millicores since the last reading, and their memory in bytes', async () => {
    let now = 0;
    const cpu = new Map([
      [10, 1.0],
      [11, 5.0],
    ]);
    const meter = new UsageMeter(
      async (pid) => (cpu.has(pid) ? { cpuSeconds: cpu.get(pid) as number, rssBytes: 100 } : undefined),
      () => now,
    );
    // First reading: nothing to compare with yet.
    expect(await meter.measure([10, 11])).toEqual({ cpu: 0, totalMemoryBytes: 200 });
    now = 2000;
    cpu.set(10, 1.5); // 0.5 s of CPU in 2 s: 250 millicores
    cpu.set(11, 7.0); // 2 s in 2 s: a whole core
    expect(await meter.measure([10, 11])).toEqual({ cpu: 1250, totalMemoryBytes: 200 });
    // Asked again within half a second: the last rates stand, not a noisy new one.
    now = 2100;
    cpu.set(11, 7.5);
    expect(await meter.measure([10, 11])).toEqual({ cpu: 1250, totalMemoryBytes: 200 });
    // A replica that is gone is left out; none readable at all: no usage.
    now = 4000;
    expect(await meter.measure([10])).toEqual({ cpu: 0, totalMemoryBytes: 100 });
    expect(await meter.measure([99])).toBeUndefined();
  });
});
