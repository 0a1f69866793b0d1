import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { migrate } from '../../mysql/migrate.ts';
import { provisionMysql } from '../../mysql/provision.ts';
import type { MysqlServer } from '../../mysql/server.ts';
import { collectOutput, ROOT } from '../support/process.ts';

const run = promisify(execFile);
const passwords = { randstore: 'img-store-pw', randshow: 'img-show-pw', dbstats: 'img-stats-pw' };
const database = `sb_img_${Date.now().toString(36)}`;
// A MySQL of its own: the function users are server-wide, and other files set their passwords too.
let server: MysqlServer;
let home: string;
let secrets: string;

/** The image's environment, as its Dockerfile sets it. */
async function imageEnv(): Promise<Record<string, string>> {
  const dockerfile = await readFile(path.join(ROOT, 'Dockerfile'), 'utf8');
  return Object.fromEntries(
    [...dockerfile.matchAll(/^\s*(?:ENV\s+)?([A-Za-z_]+)=("[^"]*"|\S+)\s*\\?$/gm)].map((m) => [
      m[1] as string,
      (m[2] as string).replace(/^"|"$/g, ''),
    ]),
  );
}

beforeAll(async () => {
  // /home/app as the image lays it out: dist/ from `npm run build`, sql/, node_modules.
  home = await mkdtemp(path.join(os.tmpdir(), 'sb-image-'));
  await run(process.execPath, [
    path.join(ROOT, 'node_modules/typescript/bin/tsc'),
    '-p',
    path.join(ROOT, 'tsconfig.build.json'),
    '--outDir',
    path.join(home, 'dist'),
  ]);
  await symlink(path.join(ROOT, 'node_modules'), path.join(home, 'node_modules'));
  await writeFile(path.join(home, 'package.json'), await readFile(path.join(ROOT, 'package.json')));
  secrets = path.join(home, 'secrets');
  await mkdir(secrets);
  for (const [user, pw] of Object.entries(passwords))
    await writeFile(path.join(secrets, `${user}-mysql-password`), `${pw}\n`);
  const { MYSQL_URL: _, ...env } = process.env;
  server = await provisionMysql({ env, database });
  await migrate(server.url, { database, users: passwords });
}, 120_000);

afterAll(async () => {
  await rm(home, { recursive: true, force: true });
  await server?.close();
});

describe('the function image’s process', () => {
  it('serves randshow when started as fprocess says, with stack.yml’s environment and its secret file', async () => {
    const env = await imageEnv();
    const stack = parse(await readFile(path.join(ROOT, 'stack.yml'), 'utf8'));
    const mysqlUrl = new URL(server.url);
    const [command, ...args] = (env.fprocess as string).split(' ');
    expect(command).toBe('node');
    const proc = spawn(process.execPath, args, {
      cwd: home,
      env: {
        ...env,
        ...stack.functions.randshow.environment,
        FUNCTION: 'randshow',
        // Where this test's MySQL is, instead of the cluster's service; port 0 instead of 3000.
        MYSQL_HOST: mysqlUrl.hostname,
        MYSQL_PORT: mysqlUrl.port,
        MYSQL_DATABASE: database,
        SECRETS_DIR: secrets,
        http_port: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output = collectOutput(proc);
    try {
      await expect
        .poll(() => /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(output())?.[1], { timeout: 20_000 })
        .toBeDefined();
      const url = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(output())?.[1] as string;
      expect(new URL(url).hostname).toBe(new URL(env.upstream_url as string).hostname);
      const res = await fetch(`${url}/?format=json`);
      // Connected as the randshow user, read the empty table.
      expect(await res.json()).toMatchObject({ error: { code: 'NO_CATS' } });
      expect(res.status).toBe(404);
      expect((await fetch(`${url}/_/health`)).status).toBe(200);
      expect(output()).not.toContain(passwords.randshow);
    } finally {
      proc.kill('SIGTERM');
      await once(proc, 'exit');
    }
  });
});
