import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { getContainerRuntimeClient } from 'testcontainers';
import { request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { alive, collectOutput, ROOT } from '../support/process.ts';

const dataDir = await mkdtemp(path.join(os.tmpdir(), 'sb-start-'));
const authFile = path.join(dataDir, 'basic-auth');
await writeFile(authFile, 'admin:s3cret:with-colon\n');
afterAll(() => rm(dataDir, { recursive: true, force: true }));

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
    const proc = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
      cwd: ROOT,
      env: startEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output = collectOutput(proc);
    await expect
      .poll(() => output(), { timeout: 60_000, interval: 200 })
      .toContain('Ctrl-C stops everything.');
    const gateway = /app\s+(http:\/\/127\.0\.0\.1:\d+)\//.exec(output())?.[1] as string;
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
    const proc = spawn('npm', ['start'], {
      cwd: ROOT,
      detached: true,
      env: { ...startEnv(), NODE_OPTIONS: `--import=${busy}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output = collectOutput(proc);
    await expect
      .poll(() => output(), { timeout: 120_000, interval: 200 })
      .toContain('Ctrl-C stops everything.');
    const gateway = /app\s+(http:\/\/127\.0\.0\.1:\d+)\//.exec(output())?.[1] as string;
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
});
