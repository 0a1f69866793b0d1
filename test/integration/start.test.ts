import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { getContainerRuntimeClient } from 'testcontainers';
import { request } from 'undici';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { alive, collectOutput, ROOT } from '../support/process.ts';

const dataDir = await mkdtemp(path.join(os.tmpdir(), 'sb-start-'));
const authFile = path.join(dataDir, 'basic-auth');
await writeFile(authFile, 'admin:s3cret:with-colon\n');
afterAll(() => rm(dataDir, { recursive: true, force: true }));

const stacks: ChildProcess[] = [];
const signal = (proc: ChildProcess, sig: NodeJS.Signals) => {
  try {
    process.kill(-(proc.pid as number), sig);
  } catch {} // the group is gone already
};
/** A test that failed half way leaves its stack running: stopped here as Ctrl-C stops it, or killed after 30 s. */
afterEach(async () => {
  for (const proc of stacks.splice(0)) {
    if (proc.exitCode !== null || proc.signalCode !== null) continue;
    const exited = once(proc, 'exit');
    signal(proc, 'SIGINT');
    const timer = setTimeout(() => signal(proc, 'SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  }
}, 60_000);

/** Every process below pid, read from /proc. */
async function descendants(pid: number): Promise<number[]> {
  const children = new Map<number, number[]>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

async function containerExists(idPrefix: string): Promise<boolean> {
  const client = await getContainerRuntimeClient();
  const list = await client.container.list();
  return list.some((c) => c.Id.startsWith(idPrefix));
}

/** npm start's environment in these tests: a small stack on free ports, its own MySQL, basic auth. */
function startEnv(): NodeJS.ProcessEnv {
  const { MYSQL_URL: _, ...env } = process.env;
  return {
    ...env,
    DATA_DIR: dataDir,
    GATEWAY_PORT: '0',
    CAT_SOURCE_PORT: '0',
    STACK_FILE: 'test/fixtures/stack-small.yml',
    GATEWAY_BASIC_AUTH_FILE: authFile,
  };
}

describe('npm start', () => {
  it('runs the stack, prints where it is, and leaves no process or container behind on Ctrl-C', async () => {
    const { proc, output, gateway } = await startStack();
    expect(output()).toMatch(/MySQL\s+\S+/);
    expect(output()).not.toContain('s3cret');

    const stored = await fetch(`${gateway}/function/randstore`, { method: 'POST' });
    expect(stored.status).toBe(200);
    // /system/* asks for the credentials in GATEWAY_BASIC_AUTH_FILE, as OpenFaaS does; functions do not.
    expect((await fetch(`${gateway}/system/functions`)).status).toBe(401);
    // curl and faas-cli get OpenFaaS's challenge; a page's own fetch does not, so no browser dialog opens.
    const curl = await request(`${gateway}/system/functions`);
    expect(curl.headers['www-authenticate']).toBe('Basic realm="OpenFaaS API"');
    expect(await curl.body.json()).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
    const page = await request(`${gateway}/system/functions`, { headers: { 'sec-fetch-mode': 'cors' } });
    expect(page.statusCode).toBe(401);
    expect(page.headers['www-authenticate']).toBeUndefined();
    await page.body.dump();
    const wrong = { authorization: `Basic ${Buffer.from('admin:nope').toString('base64')}` };
    expect((await fetch(`${gateway}/system/functions`, { headers: wrong })).status).toBe(401);
    const right = { authorization: `Basic ${Buffer.from('admin:s3cret:with-colon').toString('base64')}` };
    expect((await fetch(`${gateway}/system/functions`, { headers: right })).status).toBe(200);
    const started = await descendants(proc.pid as number);
    expect(started.length).toBeGreaterThanOrEqual(3);
    // With Docker the banner names the container; it must be gone afterwards.
    const container = /MySQL\s+container ([0-9a-f]{12})/.exec(output())?.[1];
    if (container) expect(await containerExists(container)).toBe(true);

    proc.kill('SIGINT');
    const [code] = await once(proc, 'exit');
    expect(code).toBe(0);
    await expect.poll(() => started.filter(alive), { timeout: 10_000 }).toEqual([]);
    if (container) expect(await containerExists(container)).toBe(false);
    await expect(fetch(`${gateway}/healthz`)).rejects.toThrow();
  });

  it('cleans up on Ctrl-C at the terminal even while its event loop is busy and calls are in flight', async () => {
    // A terminal's Ctrl-C goes to the whole foreground process group: npm, sh, node and every
    // child. The preload keeps scripts/start.ts busy, so its handler runs hundreds of ms late.
    const busy = path.join(ROOT, 'test/support/busy-event-loop.mjs');
    const { proc, output, gateway } = await startStack({ NODE_OPTIONS: `--import=${busy}` }, [
      'npm',
      'start',
    ]);
    const started = await descendants(proc.pid as number);
    const container = /MySQL\s+container ([0-9a-f]{12})/.exec(output())?.[1];
    expect((await fetch(`${gateway}/function/randstore`, { method: 'POST' })).status).toBe(200);

    const inFlight = Array.from({ length: 20 }, () =>
      fetch(`${gateway}/function/randshow`).then(
        (r) => r.status,
        () => 0,
      ),
    );
    process.kill(-(proc.pid as number), 'SIGINT');
    await Promise.all(inFlight);
    await expect.poll(() => started.filter(alive), { timeout: 30_000 }).toEqual([]);
    expect(output()).toContain('stopped: nothing of this stack is left running');
    if (container) expect(await containerExists(container)).toBe(false);
    await expect(fetch(`${gateway}/healthz`)).rejects.toThrow();
  }, 180_000);

  it('leaves nothing on Ctrl-C with 20 replicas and a running load, every time, even with its output closed', async () => {
    for (const round of [1, 2]) {
      const run = await startStack({ STACK_FILE: 'stack.yml', SCALING_POLICY: 'off' });
      const auth = { authorization: `Basic ${Buffer.from('admin:s3cret:with-colon').toString('base64')}` };
      const json = { ...auth, 'content-type': 'application/json' };
      await fetch(`${run.gateway}/system/scale-function/randshow`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ serviceName: 'randshow', replicas: 20 }),
      });
      const available = async () =>
        (
          (await (await fetch(`${run.gateway}/system/function/randshow`, { headers: auth })).json()) as {
            availableReplicas: number;
          }
        ).availableReplicas;
      await expect.poll(available, { timeout: 120_000, interval: 500 }).toBe(20);
      const load = await fetch(`${run.gateway}/system/loadgen/start`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ rate: 100, ratio: { randstore: 1, randshow: 3 }, strategy: 'random-id' }),
      });
      expect(load.status).toBe(202);
      await new Promise((r) => setTimeout(r, 1500));
      const started = [run.proc.pid as number, ...(await descendants(run.proc.pid as number))];
      expect(started.length).toBeGreaterThanOrEqual(23);
      // The second time its reader has gone, as with `npm start | head` after head exits.
      if (round === 2) {
        run.proc.stdout?.destroy();
        run.proc.stderr?.destroy();
      }
      process.kill(-(run.proc.pid as number), 'SIGINT');
      await expect.poll(() => started.filter(alive), { timeout: 60_000 }).toEqual([]);
      expect(await datadirInUse(), run.output().slice(-3000)).toEqual([]);
      if (round === 1) expect(run.output()).toContain('stopped: nothing of this stack is left running');
    }
  }, 400_000);

  it('kills what is left on a second Ctrl-C, says so, and leaves nothing', async () => {
    const run = await startStack();
    // A call that hangs on the cat source keeps its replica draining after the first Ctrl-C.
    const catSource = /cat source\s+(http:\/\/127\.0\.0\.1:\d+)\/cat/.exec(run.output())?.[1] as string;
    expect((await fetch(`${catSource}/_/fault?fault=slow`, { method: 'PUT' })).ok).toBe(true);
    const hanging = fetch(`${run.gateway}/function/randstore`, { method: 'POST' }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 500));
    const started = [run.proc.pid as number, ...(await descendants(run.proc.pid as number))];
    const exited = once(run.proc, 'exit');
    process.kill(-(run.proc.pid as number), 'SIGINT');
    await expect.poll(() => run.output(), { timeout: 10_000 }).toContain('SIGINT: stopping');
    process.kill(-(run.proc.pid as number), 'SIGINT');
    const [code] = await exited;
    await hanging;
    expect(code).toBe(130);
    expect(run.output()).toContain('SIGINT again: killing the replicas and MySQL now');
    expect(run.output()).not.toContain('stopped: nothing of this stack is left running');
    await expect.poll(() => started.filter(alive), { timeout: 20_000 }).toEqual([]);
    // A container is killed, not removed: the next start removes it, as after kill -9.
    const next = await startStack();
    expect(await datadirInUse()).toHaveLength(1);
    process.kill(-(next.proc.pid as number), 'SIGINT');
    await once(next.proc, 'exit');
    expect(await datadirInUse()).toEqual([]);
    expect(await datadirContainers()).toEqual([]); // exited ones too
  }, 240_000);

  it('after kill -9: the replicas exit by themselves, and the next start stops the MySQL left behind', async () => {
    const first = await startStack();
    const replicas = (await descendants(first.proc.pid as number)).filter((pid) =>
      /functions-server-main-[0-9a-f]+\.mjs/.test(cmdline(pid)),
    );
    expect(replicas.length).toBeGreaterThanOrEqual(3);
    process.kill(first.proc.pid as number, 'SIGKILL');
    await expect.poll(() => replicas.filter(alive), { timeout: 15_000 }).toEqual([]);
    expect((await datadirInUse()).length).toBeGreaterThan(0); // what nothing could stop

    const second = await startStack();
    expect(second.output()).toMatch(/MySQL: a (server|container) from an earlier start .* still runs on/);
    const started = [second.proc.pid as number, ...(await descendants(second.proc.pid as number))];
    process.kill(-(second.proc.pid as number), 'SIGINT');
    await expect.poll(() => started.filter(alive), { timeout: 60_000 }).toEqual([]);
    expect(await datadirInUse()).toEqual([]);
    expect(await datadirContainers()).toEqual([]);
  }, 300_000);
});

/** The command line of a process, or '' once it is gone. */
function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/** What holds this test's MySQL datadir: a private server's pid, or a container's id. */
async function datadirInUse(): Promise<string[]> {
  const mysqlDir = path.join(dataDir, 'mysql');
  const servers = (await readdir('/proc'))
    .filter((p) => /^\d+$/.test(p) && cmdline(Number(p)).includes(`--datadir=${mysqlDir}`))
    .map((p) => `pid ${p}`);
  const client = await getContainerRuntimeClient();
  const containers = (await client.container.list())
    .filter((c) => c.Labels?.['org.systembreaker.datadir']?.startsWith(mysqlDir))
    .map((c) => `container ${c.Id.slice(0, 12)}`);
  return [...servers, ...containers];
}

/** Every container, running or exited, labelled with this test's datadir. */
async function datadirContainers(): Promise<string[]> {
  const client = await getContainerRuntimeClient();
  const all = await client.container.dockerode.listContainers({ all: true });
  return all
    .filter((c) => c.Labels?.['org.systembreaker.datadir']?.startsWith(path.join(dataDir, 'mysql')))
    .map((c) => c.Id.slice(0, 12));
}

/**
 * The stack started as a terminal runs it, in a process group of its own (`node --import tsx
 * scripts/start.ts`, or the command given); resolves once it is up.
 */
async function startStack(
  extra: Record<string, string> = {},
  [command, ...args]: string[] = [process.execPath, '--import', 'tsx', 'scripts/start.ts'],
) {
  const proc = spawn(command as string, args, {
    cwd: ROOT,
    detached: true,
    env: { ...startEnv(), ...extra },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  stacks.push(proc);
  const output = collectOutput(proc);
  await expect
    .poll(() => output(), { timeout: 120_000, interval: 200 })
    .toContain('Ctrl-C stops everything.');
  const gateway = /app\s+(http:\/\/127\.0\.0\.1:\d+)\//.exec(output())?.[1] as string;
  return { proc, output, gateway };
}
