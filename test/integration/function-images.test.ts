import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { type CatSourceServer, startCatSource } from '../../catsource/server.ts';
import { FUNCTION_NAMES, type FunctionName } from '../../contract/functions.ts';
import { parseStack } from '../../gateway/stack.ts';
import { passwordSecretName } from '../../mysql/migrate.ts';
import { provisionMysql } from '../../mysql/provision.ts';
import type { MysqlServer } from '../../mysql/server.ts';
import { stackImages } from '../../scripts/images.ts';
import { ROOT } from '../support/process.ts';

/**
 * The function images as OpenFaaS runs them: built from the Dockerfile (`npm run images`, which
 * CI runs before the tests, with its local base images), each run read-only with a tmpfs /tmp,
 * as the image's own user, the secret file mounted where faas-netes mounts secrets, stack.yml's
 * environment, and called through the watchdog's port 8080.
 */
const exec = promisify(execFile);
const docker = async (...args: string[]) =>
  (await exec('docker', args, { maxBuffer: 16 * 1024 * 1024 })).stdout.trim();
const LABEL = 'org.systembreaker.test=function-images';

/** The images stack.yml names with this environment, or why they cannot be tested here. */
async function findImages(): Promise<
  { images: Record<FunctionName, string>; skip?: undefined } | { skip: string }
> {
  // FUNCTION_IMAGE_TAG: the TAG the images were built with (`TAG=… npm run images`).
  const tag = process.env.FUNCTION_IMAGE_TAG;
  const env = tag ? { ...process.env, TAG: tag } : process.env;
  const images = Object.fromEntries((await stackImages(env)).map((f) => [f.name, f.image])) as Record<
    FunctionName,
    string
  >;
  let reason: string | undefined;
  try {
    await docker('version', '--format', '{{.Server.Version}}');
    const missing: string[] = [];
    for (const image of Object.values(images))
      await docker('image', 'inspect', image).catch(() => missing.push(image));
    if (missing.length > 0) reason = `no image ${missing.join(', ')} (build them with npm run images)`;
  } catch {
    reason = 'Docker does not answer';
  }
  if (reason && process.env.REQUIRE_FUNCTION_IMAGES)
    throw new Error(`REQUIRE_FUNCTION_IMAGES is set but ${reason}`);
  return reason ? { skip: reason } : { images };
}

const found = await findImages();
const passwords = Object.fromEntries(
  FUNCTION_NAMES.map((f) => [f, randomBytes(9).toString('hex')]),
) as Record<FunctionName, string>;
const database = `sb_images_${Date.now().toString(36)}`;
let mysql: MysqlServer;
let cats: CatSourceServer;
let work: string;
/** Where a container reaches this machine: the default bridge's gateway. */
let hostIp: string;

/**
 * This machine's address on Docker's default bridge: the network's gateway when Docker
 * reports one, else the address of the bridge's interface (docker0) here.
 */
async function bridgeGateway(): Promise<string> {
  const net = JSON.parse(await docker('network', 'inspect', 'bridge', '--format', '{{json .}}')) as {
    IPAM: { Config: Array<{ Gateway?: string }> };
    Options: Record<string, string>;
  };
  const gateway = net.IPAM.Config.find((c) => c.Gateway)?.Gateway;
  if (gateway) return gateway;
  const name = net.Options['com.docker.network.bridge.name'] ?? 'docker0';
  const address = os.networkInterfaces()[name]?.find((a) => a.family === 'IPv4')?.address;
  if (!address) throw new Error(`cannot tell this machine's address on Docker's bridge (${name})`);
  return address;
}

/** host:port of the test's MySQL as a container sees it. */
const mysqlFromContainer = () => `${hostIp}:${new URL(mysql.url).port}`;

beforeAll(async () => {
  if (found.skip) return;
  work = await mkdtemp(path.join(os.tmpdir(), 'sb-images-test-'));
  hostIp = await bridgeGateway();
  // A MySQL in a container of its own, published on this machine (so the bridge reaches it);
  // the function users are server-wide, and other files set their passwords too.
  const { MYSQL_URL: _, ...env } = process.env;
  mysql = await provisionMysql({ env: { ...env, MYSQL_PROVISION: 'docker' }, database });
  // The cat source only where the containers reach it: the bridge's gateway address.
  cats = await startCatSource({ port: 0, host: hostIp });
  // As a Kubernetes Secret volume is (defaultMode 0444): readable by the image's own user.
  await chmod(work, 0o755);
  const secret = (name: string, value: string) => writeFile(path.join(work, name), value, { mode: 0o444 });
  for (const user of FUNCTION_NAMES) await secret(passwordSecretName(user), passwords[user]);
  await secret('mysql-root-password', decodeURIComponent(new URL(mysql.url).password));
}, 240_000);

afterAll(async () => {
  if (found.skip) return;
  const left = await docker('ps', '-aq', '--filter', `label=${LABEL}`).catch(() => '');
  if (left) await docker('rm', '-f', '-v', ...left.split('\n'));
  await cats?.close();
  await mysql?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

/** The migrate Job's container, from its manifest: its command, env and Secret mount, in the randstore image. */
async function runMigrateJob(image: string): Promise<{ code: number; output: string }> {
  const manifest = parseAllDocuments(
    await readFile(path.join(ROOT, 'deploy/kubernetes/migrate-job.yaml'), 'utf8'),
  )
    .map((d) => d.toJS())
    .find((d) => d.kind === 'Job');
  const container = manifest.spec.template.spec.containers[0];
  const jobUrl = new URL(container.env.find((e: { name: string }) => e.name === 'MYSQL_URL').value);
  jobUrl.host = mysqlFromContainer(); // the cluster's mysql Service is this test's server
  jobUrl.pathname = `/${database}`;
  const args = [
    'run',
    '--rm',
    '--label',
    LABEL,
    '--read-only', // readOnlyRootFilesystem: true
    '-v',
    `${work}:${container.volumeMounts[0].mountPath}:ro`,
    '-e',
    `MYSQL_URL=${jobUrl}`,
    image,
    ...container.command,
  ];
  try {
    const { stdout, stderr } = await exec('docker', args);
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** Runs a function's image as faas-netes would, publishes 8080 on loopback, waits for the Docker health check. */
async function runFunction(fn: FunctionName, image: string) {
  const spec = parseStack(await readFile(path.join(ROOT, 'stack.yml'), 'utf8'), {}).find(
    (f) => f.name === fn,
  );
  if (!spec) throw new Error(`stack.yml has no ${fn}`);
  const env = {
    ...spec.environment,
    // Where this test's MySQL and cat source are, instead of the cluster's.
    MYSQL_HOST: hostIp,
    MYSQL_PORT: new URL(mysql.url).port,
    MYSQL_DATABASE: database,
    CAT_SOURCE_URL: `${cats.url}/cat`,
  };
  const secrets = spec.secrets.flatMap((s) => ['-v', `${path.join(work, s)}:/var/openfaas/secrets/${s}:ro`]);
  const id = await docker(
    'run',
    '-d',
    '--label',
    LABEL,
    '--read-only',
    '--tmpfs',
    '/tmp',
    '-p',
    '127.0.0.1::8080',
    ...secrets,
    ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
    image,
  );
  const port = (await docker('port', id, '8080/tcp')).split('\n')[0]?.split(':').pop();
  const url = `http://127.0.0.1:${port}`;
  let health = '';
  for (let i = 0; i < 60 && health !== 'healthy'; i++) {
    health = await docker('inspect', '--format', '{{.State.Health.Status}}', id);
    if (health === 'unhealthy' || (await docker('inspect', '--format', '{{.State.Running}}', id)) !== 'true')
      throw new Error(`${fn} did not come up (${health}):\n${await docker('logs', id).catch(() => '')}`);
    if (health !== 'healthy') await new Promise((r) => setTimeout(r, 500));
  }
  return { id, url, health };
}

describe.skipIf(found.skip)(
  `the function images in Docker (${found.skip ?? 'built from the Dockerfile'})`,
  () => {
    const images = () => (found as { images: Record<FunctionName, string> }).images;

    it('run as a numeric non-root user, read-only, with the watchdog as their command', async () => {
      for (const fn of FUNCTION_NAMES) {
        const config = JSON.parse(
          await docker('image', 'inspect', '--format', '{{json .Config}}', images()[fn]),
        ) as {
          User: string;
          Cmd: string[];
          Env: string[];
        };
        expect(config.User).toBe('10001:10001');
        expect(config.Cmd).toEqual(['fwatchdog']);
        expect(config.Env).toContain(`FUNCTION=${fn}`);
      }
    });

    it('the migrate Job’s command, in the randstore image, applies the schema and creates the users', async () => {
      const job = await runMigrateJob(images().randstore);
      expect(job.output).toContain('applied 001_create_cats.sql');
      expect(job.code).toBe(0);
    });

    it('store, show the stored cat byte-exact and report, each through the watchdog’s port, healthy', async () => {
      const store = await runFunction('randstore', images().randstore);
      const show = await runFunction('randshow', images().randshow);
      const stats = await runFunction('dbstats', images().dbstats);
      expect([store.health, show.health, stats.health]).toEqual(['healthy', 'healthy', 'healthy']);

      const stored = await fetch(store.url, { method: 'POST' });
      expect(stored.status).toBe(200);
      const cat = (await stored.json()) as { id: number; sha256: string };

      const raw = await fetch(`${show.url}/?id=${cat.id}&format=raw`);
      expect(raw.status).toBe(200);
      expect(
        createHash('sha256')
          .update(Buffer.from(await raw.arrayBuffer()))
          .digest('hex'),
      ).toBe(cat.sha256);
      const page = await fetch(`${show.url}/?id=${cat.id}`);
      expect(await page.text()).toMatch(/<img src="data:image\/[a-z]+;base64,/);

      const report = await fetch(stats.url);
      expect(report.status).toBe(200);
      // Its own MySQL, idle now: dbstats does not count its own statements as queries running.
      expect(await report.json()).toMatchObject({
        rows: 1,
        server: { maxConnections: expect.any(Number), queriesRunning: 0 },
      });
      // No secret in what the containers logged.
      for (const c of [store, show, stats]) {
        const logs = await exec('docker', ['logs', c.id]);
        for (const p of Object.values(passwords)) expect(logs.stdout + logs.stderr).not.toContain(p);
      }
    });

    it('docker stop during a stream of calls: every call answered is a 2xx, through the watchdog’s grace', async () => {
      const stats = await runFunction('dbstats', images().dbstats);
      const statuses: number[] = [];
      let stoppedAt = 0;
      let lastAnswerAt = 0;
      let stopping: Promise<unknown> | undefined;
      // A call every 100 ms for at most 20 s: 1 s before `docker stop`, then until the watchdog
      // closes its port (healthcheck_interval after SIGTERM).
      for (let i = 0; i < 200; i++) {
        if (i === 10) {
          stoppedAt = Date.now();
          const proc = spawn('docker', ['stop', '-t', '30', stats.id], { stdio: 'ignore' });
          stopping = once(proc, 'exit');
        }
        const res = await fetch(stats.url, { signal: AbortSignal.timeout(5000) }).catch(() => null);
        if (!res) break;
        statuses.push(res.status);
        await res.arrayBuffer();
        lastAnswerAt = Date.now();
        await new Promise((r) => setTimeout(r, 100));
      }
      await stopping;
      expect(statuses.length).toBeGreaterThan(10);
      expect(statuses.filter((s) => s < 200 || s > 299)).toEqual([]);
      // healthcheck_interval is 5 s in the image: the calls went on being answered through most of it.
      expect(lastAnswerAt - stoppedAt).toBeGreaterThanOrEqual(4000);
      expect(await docker('inspect', '--format', '{{.State.ExitCode}}', stats.id)).toBe('0');
    });
  },
);
