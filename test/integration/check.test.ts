import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DbStats } from '../../contract/functions.ts';
import { DATABASE, type LocalStack } from '../../gateway/local-stack.ts';
import { passwordSecretName } from '../../mysql/migrate.ts';
import { withDatabase } from '../../mysql/server.ts';
import pkg from '../../package.json' with { type: 'json' };
import { buildCheck } from '../../scripts/build-check.ts';
import { startTestStack } from '../support/stack.ts';

/**
 * The bundle as a monitoring host runs it: built once into a directory of its own, run by
 * `node` alone from another directory, with no environment but PATH — no checkout, no
 * node_modules, no package.json around it.
 */
let tmp: string;
let bundle: string;
let runDir: string;
let stack: LocalStack;
let gw: string;
let stopped = false;
const logs: string[] = [];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The status line. */
  status: string;
  seconds: number;
}

function check(...args: string[]): Promise<Run> {
  const start = performance.now();
  const proc = spawn(process.execPath, [bundle, ...args], {
    cwd: runDir,
    env: { PATH: process.env.PATH ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d) => (stdout += d));
  proc.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    proc.once('error', reject);
    proc.once('close', (code) =>
      resolve({
        code,
        stdout,
        stderr,
        status: stdout.split('\n')[0] ?? '',
        seconds: (performance.now() - start) / 1000,
      }),
    );
  });
}

/** The value of one perfdata item of a status line. */
function perf(run: Run, label: string): number {
  const m = new RegExp(`'${label}'=([-\\d.]+)`).exec(run.status);
  if (!m) throw new Error(`no '${label}' in: ${run.stdout}${run.stderr}`);
  return Number(m[1]);
}

const dbstats = async () => (await (await fetch(`${gw}/function/dbstats`)).json()) as DbStats;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'sb-check-'));
  runDir = path.join(tmp, 'run');
  await mkdir(runDir);
  // Installed under the name monitoring hosts give plugins: no extension.
  bundle = await buildCheck(path.join(tmp, 'libexec', 'check_systembreaker'));
  stack = await startTestStack({}, logs);
  gw = stack.gateway.url;
  // randshow answers 404 on an empty table.
  expect((await fetch(`${gw}/function/randstore`, { method: 'POST' })).status).toBe(200);
});

afterAll(async () => {
  if (!stopped) await stack?.stop();
  await rm(tmp, { recursive: true, force: true });
});

describe('check_systembreaker as a monitoring host runs it', () => {
  it('prints its name and the package version for -V, and its help for -h, both UNKNOWN', async () => {
    const version = await check('-V');
    expect(version).toMatchObject({ code: 3, stdout: `check_systembreaker ${pkg.version}\n`, stderr: '' });
    const help = await check('--help');
    expect(help.code).toBe(3);
    expect(help.stdout).toContain('Usage: check_systembreaker function -H URL -f NAME');
  });

  it('is UNKNOWN for a malformed range, naming the option and the value', async () => {
    const run = await check('function', '-H', gw, '-f', 'randshow', '-c', '1:2:3');
    expect(run.code).toBe(3);
    expect(run.status).toMatch(/^SYSTEMBREAKER UNKNOWN - -c\/--critical "1:2:3" is not a threshold range/);
  });

  it('is UNKNOWN "timed out after 1 s" against a gateway that never answers, and ends then', async () => {
    const held: Server = createServer(() => {});
    await new Promise<void>((r) => held.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(held.address() as AddressInfo).port}`;
      const run = await check('function', '-H', url, '-f', 'randshow', '-t', '1', '--window', '0.5');
      expect(run.code).toBe(3);
      expect(run.status).toBe('SYSTEMBREAKER FUNCTION UNKNOWN - timed out after 1 s');
      expect(run.seconds).toBeLessThan(4);
    } finally {
      held.closeAllConnections();
      await new Promise((r) => held.close(r));
    }
  });
});

describe('against a running local stack', () => {
  it('finds randshow available through the gateway: OK with its time as perfdata', async () => {
    const run = await check('function', '-H', gw, '-f', 'randshow', '-w', '2', '-c', '5', '--window', '0.5');
    expect(run.code, run.stdout).toBe(0);
    expect(run.status).toMatch(
      /^SYSTEMBREAKER FUNCTION OK - randshow answered 200 in [\d.]+ ms \(GET \/function\/randshow\/_\/health\) \| /,
    );
    expect(run.status).toMatch(/'time'=[\d.]+s;2;5;0 'rate'=[\d.]+;;;0 'p95'=[\dU.]+/);
    // The stack's gateway has no basic auth: replicas are read too, the max from stack-small.yml.
    expect(run.status).toContain("'replicas'=1;;;0;4");
  });

  it('checks randstore without storing a cat', async () => {
    const before = (await dbstats()).rows;
    const run = await check('function', '-H', gw, '-f', 'randstore', '--window', '0.2');
    expect(run.code, run.stdout).toBe(0);
    expect((await dbstats()).rows).toBe(before);
  });

  it('reads MySQL through dbstats: OK with the connections in use as perfdata', async () => {
    const run = await check(
      'mysql',
      '-H',
      gw,
      '-m',
      'connections',
      '-w',
      '80',
      '-c',
      '95',
      '--window',
      '0.5',
    );
    expect(run.code, run.stdout).toBe(0);
    expect(run.status).toMatch(/^SYSTEMBREAKER MYSQL OK - \d+ of \d+ connections in use/);
    expect(run.status).toMatch(/'connections'=[\d.]+%;80;95;0;100 'threads'=\d+;;;0;\d+/);
    expect(perf(run, 'rows')).toBeGreaterThanOrEqual(1);
    expect(perf(run, 'bytes')).toBeGreaterThan(0);
  });

  it('is CRITICAL on the rate while randshow is under load, with the rate as perfdata', async () => {
    const running = check(
      'function',
      '-H',
      gw,
      '-f',
      'randshow',
      '-m',
      'rate',
      '-w',
      '1',
      '-c',
      '2',
      '--window',
      '2',
    );
    // At most 400 calls, 50 a second, until the check is done.
    let done = false;
    void running.finally(() => (done = true));
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < 400 && !done; i++) {
      calls.push(
        fetch(`${gw}/function/randshow?format=json&strategy=random-id`).then((r) => r.arrayBuffer()),
      );
      await sleep(20);
    }
    await Promise.all(calls);
    const run = await running;
    expect(run.code, run.stdout).toBe(2);
    expect(run.status).toMatch(/^SYSTEMBREAKER FUNCTION CRITICAL - randshow: [\d.]+ calls\/s over [\d.]+ s/);
    expect(perf(run, 'rate')).toBeGreaterThan(2);
    expect(run.status).toMatch(/'rate'=[\d.]+;1;2;0/);
    expect(perf(run, 'errors')).toBe(0);
    expect(perf(run, 'p95')).toBeGreaterThan(0);
  });

  it('shows a long statement of another connection as dbstats’ longestQuery and in the check', async () => {
    const admin = await mysql.createConnection({ uri: withDatabase(stack.mysql.url, DATABASE) });
    try {
      const sleeping = admin.query('SELECT SLEEP(5) AS slept, (SELECT COUNT(*) FROM cats) AS n');
      await sleep(1000);
      const { server } = await dbstats();
      expect(server.longestQuery?.seconds).toBeGreaterThanOrEqual(0.5);
      expect(server.longestQuery?.statement).toContain(
        'SELECT SLEEP(5) AS slept, (SELECT COUNT(*) FROM cats)',
      );

      const secret = path.join(tmp, 'dbstats-password');
      await writeFile(secret, `${await readSecret('dbstats')}\n`, { mode: 0o600 });
      const url = `mysql://dbstats@${stack.mysql.host}:${stack.mysql.port}/${DATABASE}`;
      const [viaDbstats, direct] = await Promise.all([
        check('mysql', '-H', gw, '-m', 'longest-query', '-w', '0.5', '--window', '0.5'),
        check(
          'mysql',
          '--mysql-url',
          url,
          '--mysql-password-file',
          secret,
          '-m',
          'longest-query',
          '-w',
          '0.5',
          '--window',
          '0.5',
        ),
      ]);
      for (const run of [viaDbstats, direct]) {
        expect(run.code, run.stdout + run.stderr).toBe(1);
        expect(run.status).toMatch(
          /^SYSTEMBREAKER MYSQL WARNING - the longest statement has run [\d.]+ s: SELECT SLEEP\(5\)/,
        );
        expect(perf(run, 'longest-query')).toBeGreaterThan(0.5);
        expect(run.status).toMatch(/'longest-query'=[\d.]+s;0.5;;0/);
      }
      await sleeping;
    } finally {
      await admin.end();
    }
  });

  it('reads MySQL directly with a password from a file, and is CRITICAL when MySQL refuses it', async () => {
    const url = `mysql://dbstats@${stack.mysql.host}:${stack.mysql.port}/${DATABASE}`;
    const good = path.join(tmp, 'good-password');
    const bad = path.join(tmp, 'bad-password');
    await writeFile(good, await readSecret('dbstats'));
    await writeFile(bad, 'not-the-password');
    const run = await check(
      'mysql',
      '--mysql-url',
      url,
      '--mysql-password-file',
      good,
      '-m',
      'rows',
      '-c',
      '1:',
      '--window',
      '0.3',
    );
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.status).toMatch(/^SYSTEMBREAKER MYSQL OK - \d+ cats? stored/);
    expect(perf(run, 'rows')).toBe((await dbstats()).rows);
    const refused = await check('mysql', '--mysql-url', url, '--mysql-password-file', bad, '--window', '0.3');
    expect(refused.code).toBe(2);
    expect(refused.status).toContain('ER_ACCESS_DENIED_ERROR');
    expect(refused.stdout + refused.stderr).not.toContain(await readSecret('dbstats'));
  });

  it('is CRITICAL for the function and for MySQL through dbstats once the stack is stopped', async () => {
    await stack.stop();
    stopped = true;
    const fn = await check('function', '-H', gw, '-f', 'randshow', '--window', '0.3');
    expect(fn.code, fn.stdout).toBe(2);
    expect(fn.status).toMatch(
      /^SYSTEMBREAKER FUNCTION CRITICAL - cannot reach http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/,
    );
    const db = await check('mysql', '-H', gw, '--window', '0.3');
    expect(db.code, db.stdout).toBe(2);
    expect(db.status).toMatch(/^SYSTEMBREAKER MYSQL CRITICAL - cannot reach .*: ECONNREFUSED/);
  });
});

async function readSecret(user: 'dbstats'): Promise<string> {
  return (await readFile(path.join(stack.secretsDir, passwordSecretName(user)), 'utf8')).trim();
}
