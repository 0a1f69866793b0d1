import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runToEnd } from '../support/process.ts';

const dir = await mkdtemp(path.join(os.tmpdir(), 'sb-bench-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('npm run bench (smoke)', () => {
  it('runs short scenarios end to end and writes the results and the report', async () => {
    const out = path.join(dir, 'latest.json');
    const { code, output } = await runToEnd(
      [
        '--import',
        'tsx',
        'bench/run.ts',
        '--only',
        'codec,server',
        '--seconds',
        '1',
        '--connections',
        '10',
        '--budget-ms',
        '200',
        '--out',
        out,
        '--report-dir',
        dir,
      ],
      { ...(process.env as Record<string, string>) },
    );
    expect(code, output).toBe(0);
    const results = JSON.parse(await readFile(out, 'utf8'));
    expect(results.machine.cores).toBeGreaterThan(0);
    expect(results.codec.roundTripRatio).toBeGreaterThan(0);
    expect(results.codec.storedBytesPerImageByte).toBeCloseTo(1.42, 1);
    expect(results.server.plain.rps).toBeGreaterThan(0);
    expect(results.server.oursOverPlain).toBeGreaterThan(0);
    expect(results.server.oursOverExpress).toBeGreaterThan(0);
    const report = await readFile(path.join(dir, 'report.md'), 'utf8');
    expect(report).toContain('## Function server overhead');
    expect(report).toContain(`${results.machine.cores} cores`);
    expect(await readFile(path.join(dir, 'server.svg'), 'utf8')).toMatch(/^<svg /);
  });

  it('names an unknown scenario and exits 2', async () => {
    const { code, output } = await runToEnd(['--import', 'tsx', 'bench/run.ts', '--only', 'everything'], {});
    expect(code).toBe(2);
    expect(output).toContain('unknown scenario everything');
  });
});
