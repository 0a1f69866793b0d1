import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { type CatSourceServer, startCatSource } from '../../catsource/server.ts';
import { FUNCTION_NAMES } from '../../contract/functions.ts';
import { parseStack } from '../../gateway/stack.ts';
import { passwordSecretName } from '../../mysql/migrate.ts';
import { freePort } from '../../mysql/net.ts';
import { provisionMysql } from '../../mysql/provision.ts';
import type { MysqlServer } from '../../mysql/server.ts';
import { faasBuildContext } from '../../scripts/build-context.ts';
import { functionImage } from '../support/dockerfile.ts';
import { collectOutput, ROOT } from '../support/process.ts';
import { findTool } from '../support/tools.ts';

const exec = promisify(execFile);
const watchdog = findTool('OF_WATCHDOG_BIN', ['fwatchdog', 'of-watchdog'], 'REQUIRE_OF_WATCHDOG');
const passwords = { randstore: 'img-store-pw', randshow: 'img-show-pw', dbstats: 'img-stats-pw' };
const database = `sb_img_${Date.now().toString(36)}`;

// A MySQL of its own: the function users are server-wide, and other files set their passwords too.
let server: MysqlServer;
let cats: CatSourceServer;
let work: string;
/** build/randstore/ as `faas-cli build` lays it out, before anything ran in it. */
let context: string;
let contextEntries: string[];
/** /home/app as the image's final stage lays it out. */
let home: string;
let secrets: string;
let buildOutput: string;
let job: { code: number | null; output: string };
const running: ChildProcess[] = [];

/** Lays out the image's WORKDIR from its final stage's COPY lines, the build stage having run in `context`. */
async function layOutHome(image: Awaited<ReturnType<typeof functionImage>>): Promise<void> {
  for (const { cmd, args } of image.final.instructions.filter((i) => i.cmd === 'COPY')) {
    const from = /--from=(\S+)/.exec(args)?.[1];
    const [src, dest] = args
      .split(' ')
      .filter((a) => !a.startsWith('--'))
      .slice(-2) as [string, string];
    if (from === 'watchdog') continue; // the real binary is run from where the test found it
    const target = dest.startsWith('/')
      ? null
      : path.join(home, dest.endsWith('/') ? path.basename(src) : dest);
    if (!target) throw new Error(`${cmd} ${args}: an absolute destination outside WORKDIR`);
    // npm ci --omit=dev in the deps stage: the repository's node_modules stand in for it.
    if (from === 'deps') await symlink(path.join(ROOT, 'node_modules'), target);
    else
      await cp(path.join(context, from === 'build' ? path.basename(src) : src), target, { recursive: true });
  }
}

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'sb-image-'));
  context = path.join(work, 'build', 'randstore');
  await faasBuildContext(ROOT, 'stack.yml', 'randstore', context);
  contextEntries = await readdir(context, { recursive: true });

  // The build stage, in the context as the image builds it: npm ci (the repository's
  // node_modules stand in), then its RUN lines after `COPY . .`.
  const image = await functionImage({ FUNCTION: 'randstore' });
  const build = image.stage('build').instructions;
  const runs = build
    .slice(build.findIndex((i) => i.cmd === 'COPY' && i.args === '. .'))
    .filter((i) => i.cmd === 'RUN');
  await symlink(path.join(ROOT, 'node_modules'), path.join(context, 'node_modules'));
  buildOutput = '';
  for (const run of runs) {
    const { stdout, stderr } = await exec('sh', ['-c', run.args], {
      cwd: context,
      env: { PATH: process.env.PATH ?? '', CI: '1', NO_COLOR: '1' },
      maxBuffer: 16 * 1024 * 1024,
    }).catch((err: { stdout?: string; stderr?: string }) => {
      throw new Error(`RUN ${run.args} failed in the build context:\n${err.stdout ?? ''}${err.stderr ?? ''}`);
    });
    buildOutput += stdout + stderr;
  }

  home = path.join(work, 'home', 'app');
  await mkdir(home, { recursive: true });
  await layOutHome(image);

  const { MYSQL_URL: _, ...env } = process.env;
  server = await provisionMysql({ env, database });
  cats = await startCatSource({ port: 0 });

  // The migrate Job's exact command, from its manifest, with the Secret mounted where it says.
  const manifest = parseAllDocuments(
    await readFile(path.join(ROOT, 'deploy/kubernetes/migrate-job.yaml'), 'utf8'),
  )
    .map((d) => d.toJS())
    .find((d) => d.kind === 'Job');
  const container = manifest.spec.template.spec.containers[0];
  const mountPath: string = container.volumeMounts[0].mountPath;
  secrets = path.join(work, 'secrets');
  await mkdir(secrets);
  const root = new URL(server.url);
  await writeFile(path.join(secrets, 'mysql-root-password'), decodeURIComponent(root.password));
  for (const user of FUNCTION_NAMES)
    await writeFile(path.join(secrets, passwordSecretName(user)), `${passwords[user]}\n`);
  const jobUrl = new URL(container.env.find((e: { name: string }) => e.name === 'MYSQL_URL').value);
  jobUrl.host = root.host; // the cluster's mysql Service is this test's server
  jobUrl.pathname = `/${database}`;
  const [command, ...args] = (container.command as string[]).map((a) => a.replace(mountPath, secrets));
  expect(command).toBe('node');
  const proc = spawn(process.execPath, args, {
    cwd: home,
    env: { PATH: process.env.PATH ?? '', MYSQL_URL: jobUrl.toString() },
  });
  const output = collectOutput(proc);
  const [code] = (await once(proc, 'exit')) as [number | null];
  job = { code, output: output() };
}, 240_000);

afterAll(async () => {
  for (const p of running) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  await cats?.close();
  await server?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the function image’s build context, as faas-cli build copies it', () => {
  it('holds the Dockerfile and the sources, but no .git, node_modules, MySQL data, secrets or build output', () => {
    const top = new Set(contextEntries.map((e) => e.split(path.sep)[0] as string));
    for (const forbidden of [
      '.git',
      'node_modules',
      '.data',
      '.secrets',
      'test-results',
      'dist',
      'build',
      'template',
    ])
      expect(top).not.toContain(forbidden);
    expect(top).toContain('Dockerfile');
    expect(contextEntries.some((e) => e.includes('bench/results') || e.includes('loadgen/dist'))).toBe(false);
    // Only what the image builds from: not the gateway, the app or the benchmarks.
    expect(
      [...top].filter((e) => ['gateway', 'loadgen', 'bench', 'faults', 'docs', 'deploy'].includes(e)),
    ).toEqual([]);
  });

  it('builds there as the Dockerfile’s build stage does: compiled, and the functions’ tests pass', () => {
    expect(buildOutput).toMatch(/Test Files\s+\d+ passed/);
    expect(existsSync(path.join(context, 'dist/functions/server/main.js'))).toBe(true);
  });
});

describe('the migrate Job, from the image’s layout', () => {
  it('finds sql/ beside package.json, applies the schema and creates the function users', async () => {
    expect(job.output).toContain('applied 001_create_cats.sql');
    expect(job.code).toBe(0);
    const asRandshow = new URL(server.url);
    asRandshow.username = 'randshow';
    asRandshow.password = passwords.randshow;
    asRandshow.pathname = `/${database}`;
    const conn = await mysql.createConnection({ uri: asRandshow.toString() });
    try {
      const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM cats');
      expect(rows[0]?.n).toBe(0);
    } finally {
      await conn.end();
    }
  });
});

/** Starts the real of-watchdog in front of the compiled server, as the image's CMD does. */
async function startWatchdog(fn: string, overrides: Record<string, string> = {}) {
  const image = await functionImage({ FUNCTION: fn });
  // stack.yml as faas-cli reads it: ${VAR:-default} substituted.
  const spec = parseStack(await readFile(path.join(ROOT, 'stack.yml'), 'utf8'), {}).find(
    (f) => f.name === fn,
  );
  const mysqlUrl = new URL(server.url);
  const [port, upstreamPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
  const tmp = await mkdtemp(path.join(work, `tmp-${fn}-`));
  const env = {
    PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ''}`,
    ...image.env,
    ...spec?.environment,
    // Where this test's MySQL and cat source are, instead of the cluster's; free ports
    // instead of 8080/3000/8081; a /tmp of its own for the watchdog's lock file.
    MYSQL_HOST: mysqlUrl.hostname,
    MYSQL_PORT: mysqlUrl.port,
    MYSQL_DATABASE: database,
    SECRETS_DIR: secrets,
    CAT_SOURCE_URL: `${cats.url}/cat`,
    port: String(port),
    metrics_port: String(metricsPort),
    http_port: String(upstreamPort),
    upstream_url: image.env.upstream_url?.replace(/:\d+$/, `:${upstreamPort}`) ?? '',
    TMPDIR: tmp,
    ...overrides,
  };
  const proc = spawn(watchdog.path as string, [], { cwd: home, env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.push(proc);
  const output = collectOutput(proc);
  const url = `http://127.0.0.1:${port}`;
  // /_/ready: the watchdog asks the function server's ready_path, so both are up.
  for (let i = 0; (await fetch(`${url}/_/ready`).catch(() => null))?.status !== 200; i++) {
    if (i >= 100 || proc.exitCode !== null)
      throw new Error(`${fn} behind the watchdog did not become ready:\n${output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return { proc, url, output, image };
}

/** Stops a watchdog with SIGTERM, as Kubernetes does, and waits for it to exit. */
async function stopWatchdog(w: { proc: ChildProcess }): Promise<void> {
  const exited = once(w.proc, 'exit');
  w.proc.kill('SIGTERM');
  // Bounded, so that a test whose call is still stuck fails with its own assertion, not with
  // vitest's timeout while the watchdog waits out exec_timeout.
  const kill = setTimeout(() => w.proc.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(kill);
}

// of-watchdog 0.9.12 always serves its own metrics on 8081 (and panics if it cannot), so the
// watchdogs here run one at a time.
describe.skipIf(watchdog.skip)(`behind the real of-watchdog (${watchdog.path ?? watchdog.skip})`, () => {
  it('stores with randstore and shows with randshow, answering 200 to POST as faas-cli invoke sends it', async () => {
    // Draining is the next test's business: a short grace keeps this one quick.
    const quick = { healthcheck_interval: '1s' };
    const store = await startWatchdog('randstore', quick);
    let cat: { id: number; sha256: string };
    try {
      const stored = await fetch(store.url, { method: 'POST', body: '' });
      expect(stored.status).toBe(200);
      cat = (await stored.json()) as { id: number; sha256: string };
      // The scrape annotations point Prometheus at /_/metrics on the watchdog's port.
      const metrics = await (await fetch(`${store.url}/_/metrics`)).text();
      expect(metrics).toContain('systembreaker_images_stored_total');
      expect(store.output()).not.toContain(passwords.randstore);
    } finally {
      await stopWatchdog(store);
    }
    const show = await startWatchdog('randshow', quick);
    try {
      const shown = await fetch(`${show.url}/?format=json&id=${cat.id}`, { method: 'POST', body: 'ignored' });
      expect(shown.status).toBe(200);
      expect(await shown.json()).toMatchObject({ id: cat.id, sha256: cat.sha256 });
      // The watchdog passes on the Host the OpenFaaS gateway was reached by: the image answers any.
      const viaGateway = await request(`${show.url}/?format=json&id=${cat.id}`, {
        headers: { host: 'gateway.openfaas:8080' },
      });
      expect(viaGateway.statusCode).toBe(200);
      await viaGateway.body.dump();
    } finally {
      await stopWatchdog(show);
    }
  });

  describe('randshow’s query, when the call ends before it does', () => {
    let locker: mysql.Connection;
    /** randshow queries MySQL runs for this file's database. */
    const running = async () => {
      const [rows] = await locker.query<mysql.RowDataPacket[]>('SHOW FULL PROCESSLIST');
      return rows.filter(
        (r) => r.db === database && r.Command === 'Query' && String(r.Info).includes('FROM cats'),
      ).length;
    };
    beforeAll(async () => {
      const admin = new URL(server.url);
      admin.pathname = `/${database}`;
      locker = await mysql.createConnection({ uri: admin.toString() });
      await locker.query(
        "INSERT INTO cats (source_url, mime, width, height, original_bytes, stored_bytes, sha256, encoding, image) VALUES ('test://lock', 'image/png', 1, 1, 1, 1, REPEAT('0', 64), 'raw', 'x')",
      );
    });
    afterAll(() => locker?.end());

    // The table locked by the test: randshow's SELECT waits on the server until it is stopped.
    it('is stopped on the server when the watchdog’s exec_timeout passes', async () => {
      const show = await startWatchdog('randshow', { healthcheck_interval: '1s', exec_timeout: '1s' });
      await locker.query('LOCK TABLES cats WRITE');
      try {
        const res = await fetch(`${show.url}/?format=json`);
        expect(res.status).toBe(504);
        await res.arrayBuffer();
        await expect.poll(running, { timeout: 2000 }).toBe(0);
      } finally {
        await locker.query('UNLOCK TABLES');
        await stopWatchdog(show);
      }
    });

    it('is stopped on the server when the caller hangs up on the watchdog', async () => {
      const show = await startWatchdog('randshow', { healthcheck_interval: '1s', exec_timeout: '60s' });
      await locker.query('LOCK TABLES cats WRITE');
      try {
        const controller = new AbortController();
        const call = fetch(`${show.url}/?format=json`, { signal: controller.signal }).catch(
          (err: Error) => err.name,
        );
        await expect.poll(running, { timeout: 5000 }).toBe(1);
        controller.abort();
        expect(await call).toBe('AbortError');
        // KILL QUERY goes over a connection of its own: on a loaded machine (the CI's other test
        // files beside this one) opening it has taken more than 2 s. What matters is that the
        // statement stops long before the lock (or exec_timeout's 60 s) would end it.
        await expect.poll(running, { timeout: 15_000 }).toBe(0);
      } finally {
        await locker.query('UNLOCK TABLES');
        await stopWatchdog(show);
      }
    });
  });

  it('drops nothing across a SIGTERM: every request in the watchdog’s grace window gets a 2xx', async () => {
    const store = await startWatchdog('randstore');
    const exited = once(store.proc, 'exit');
    const statuses: number[] = [];
    let sigtermAt = 0;
    let lastAnswerAt = 0;
    // A randstore call every 100 ms for at most 12 s: 1 s before SIGTERM, then until the
    // watchdog stops accepting (healthcheck_interval later) — in Kubernetes, the window in
    // which the endpoints still route to a terminating pod.
    for (let i = 0; i < 120; i++) {
      if (i === 10) {
        sigtermAt = Date.now();
        store.proc.kill('SIGTERM');
      }
      const res = await fetch(store.url, { method: 'POST', signal: AbortSignal.timeout(5000) }).catch(
        () => null,
      );
      if (!res) break; // the watchdog closed its port: the grace window is over
      statuses.push(res.status);
      await res.arrayBuffer();
      lastAnswerAt = Date.now();
      await new Promise((r) => setTimeout(r, 100));
    }
    const graceMs = Number(store.image.env.healthcheck_interval?.replace(/s$/, '')) * 1000;
    expect(statuses.filter((s) => s < 200 || s > 299)).toEqual([]);
    // The calls went on being answered through most of healthcheck_interval after SIGTERM.
    expect(lastAnswerAt - sigtermAt).toBeGreaterThanOrEqual(graceMs * 0.8);
    expect(store.output()).toContain('SIGTERM: no new connections in');
    await exited;
  });
});
