import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PLAN } from '../../contract/plan.ts';
import { parseRunResults, type RunResults, type SecondStats } from '../../contract/results.ts';
import { timelineOf } from '../../loadgen/src/app/charts.ts';
import { RESULTS_ELEMENT_ID, renderReport } from '../../loadgen/src/report/render.ts';
import { ROOT, runToEnd } from '../support/process.ts';

const counts = (fn: string) => ({
  fn,
  sent: 10,
  completed: 10,
  dropped: 0,
  byClass: { '2xx': 9, '3xx': 0, '4xx': 0, '5xx': 1, net: 0 },
  byCode: { DB_UNAVAILABLE: 1 },
  p50: 12.3456,
  p90: 20,
  p95: 25.25,
  p99: 40,
  max: 41,
});
const second = (t: number, fn: string): SecondStats => ({ ...counts(fn), t, dialled: 10 });

const RESULTS: RunResults = {
  version: 1,
  engine: 'node',
  target: 'http://127.0.0.1:8080',
  plan: DEFAULT_PLAN,
  startedAt: '2026-12-05T10:00:00.000Z',
  seconds: [second(1, 'randshow'), second(2, 'randshow')],
  summary: [{ ...counts('randshow'), rate: 9.5 }],
  system: [
    { t: 0.4, functions: { randshow: { replicas: 1, ready: 1, cpu: 120 } } },
    { t: 1.6, functions: { randshow: { replicas: 3, ready: 2 } } },
    {
      t: 2.1,
      db: { threadsConnected: 12, queriesRunning: 4, maxConnections: 151, rows: 30, blobBytes: 2 * 1048576 },
    },
  ],
};

describe('a run’s results from a file', () => {
  it('are taken as exported, with or without the stack’s samples', () => {
    expect(parseRunResults(JSON.parse(JSON.stringify(RESULTS)))).toEqual(RESULTS);
    const { system: _, ...k6Like } = RESULTS;
    expect(parseRunResults(k6Like).system).toBeUndefined();
  });

  it('are refused naming the first field that is wrong', () => {
    expect(() => parseRunResults({ ...RESULTS, version: 2 })).toThrow(
      /^not a SystemBreaker run's results: version: /,
    );
    expect(() =>
      parseRunResults({ ...RESULTS, seconds: [{ ...second(1, 'randshow'), p50: 'fast' }] }),
    ).toThrow(/results: seconds\[0\]\.p50: /);
    expect(() => parseRunResults({ ...RESULTS, plan: { rate: -1 } })).toThrow(
      "not a SystemBreaker run's results: plan: rate must be a number from 0 to 100000 requests/s; got -1",
    );
    expect(() => parseRunResults([])).toThrow(/^not a SystemBreaker run's results: /);
  });
});

describe('the HTML report', () => {
  it('carries the run as JSON that reads back the same, even when a field holds markup', () => {
    const hostile = { ...RESULTS, target: 'http://x/</script><img src=x onerror=alert(1)>' };
    const html = renderReport(hostile, { script: 'window.drawn = "</script>";', css: '.u-legend{}' });
    expect(html).not.toContain('</script><img');
    expect(html).toContain('&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;');
    const json = new RegExp(
      `<script type="application/json" id="${RESULTS_ELEMENT_ID}">(.*?)</script>`,
      's',
    ).exec(html)?.[1];
    expect(JSON.parse(json ?? '')).toEqual(hostile);
    // The script's own text cannot close its element early.
    expect(html).toContain('window.drawn = "<\\/script>";');
  });

  it('forbids every request in its policy and prints the numbers a reader looks for', () => {
    const html = renderReport(RESULTS, { script: '', css: '' });
    expect(html).toContain(
      `content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"`,
    );
    expect(html).toContain('<td class="p50">12.3</td>');
    expect(html).toContain('<td class="rate">9.50</td>');
    expect(html).toContain('<td class="errors">DB_UNAVAILABLE 1</td>');
    expect(html).toMatch(
      /<tr data-fn="randshow"><td>randshow<\/td><td class="replicas">3<\/td><td class="cpu">120<\/td><\/tr>/,
    );
    expect(html).toContain('at most <b>12</b> of 151 connections, <b>4</b> queries running at once; 30 rows');
  });

  it('says when a run has no samples of the stack rather than drawing empty peaks', () => {
    const { system: _, ...k6Like } = RESULTS;
    expect(renderReport(k6Like, { script: '', css: '' })).toContain(
      'The engine did not record replicas or the database in this run.',
    );
  });

  it('puts the stack’s samples on the seconds they were taken in, on the run’s wall clock', () => {
    const timeline = timelineOf(RESULTS);
    const start = Date.parse(RESULTS.startedAt) / 1000;
    const [x, replicas, cpu, threads] = timeline.data(['replicas.randshow', 'cpu.randshow', 'db.threads']);
    const at = (s: number) => (x as number[]).indexOf(start + s);
    expect(replicas?.[at(0)]).toBe(1);
    expect(replicas?.[at(1)]).toBe(3);
    expect(cpu?.[at(1)]).toBeNull();
    expect(threads?.[at(2)]).toBe(12);
  });
});

describe('npm run report', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sb-report-cli-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));
  const report = (...args: string[]) => runToEnd(['--import', 'tsx', 'scripts/report.ts', ...args], {});

  it('writes one self-contained file with uPlot inlined', async () => {
    const file = path.join(dir, 'results.json');
    await writeFile(file, JSON.stringify(RESULTS));
    const out = path.join(dir, 'report.html');
    const { code, output } = await report(file, '--out', out);
    expect(code, output).toBe(0);
    const html = await readFile(out, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script[^>]* src=|<link[^>]* href=/);
    expect(html).toContain('.u-legend'); // uPlot's stylesheet
    expect(html.length).toBeGreaterThan(40_000); // and its code
  });

  it('as the README writes it, `npm run report -- results.json > report.html`, leaves npm’s own lines out of the file', async () => {
    const file = path.join(dir, 'results.json');
    await writeFile(file, JSON.stringify(RESULTS));
    const out = path.join(dir, 'redirected.html');
    const fd = openSync(out, 'w');
    const npm = spawn('npm', ['run', 'report', '--', file], { cwd: ROOT, stdio: ['ignore', fd, 'ignore'] });
    const [code] = await once(npm, 'exit');
    closeSync(fd);
    expect(code).toBe(0);
    expect(await readFile(out, 'utf8')).toMatch(/^<!doctype html>\n.*<\/html>\n$/s);
  });

  it('refuses a missing file, a file that is not JSON, and JSON that is not a run: exit 2 and why', async () => {
    const missing = await report(path.join(dir, 'nope.json'));
    expect(missing).toMatchObject({ code: 2 });
    expect(missing.output.trim()).toBe(`cannot read ${path.join(dir, 'nope.json')}: ENOENT`);
    const text = path.join(dir, 'text.json');
    await writeFile(text, 'timestamp,fn\n');
    const notJson = await report(text);
    expect(notJson.code).toBe(2);
    expect(notJson.output).toMatch(/^.*text\.json is not JSON: /);
    const other = path.join(dir, 'other.json');
    await writeFile(other, JSON.stringify({ ...RESULTS, engine: 'jmeter' }));
    const wrong = await report(other);
    expect(wrong.code).toBe(2);
    expect(wrong.output).toMatch(/^not a SystemBreaker run's results: engine: /);
    expect((await report('--bogus')).code).toBe(2);
  });
});
