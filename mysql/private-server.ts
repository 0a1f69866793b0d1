import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { access, constants, mkdir, readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './net.ts';
import { type MysqlServer, withDatabase } from './server.ts';
import { waitForMysql } from './wait.ts';

const run = promisify(execFile);

/** Debian puts mariadbd in /usr/sbin, which a non-root PATH often lacks. */
const EXTRA_DIRS = ['/usr/sbin', '/usr/local/sbin', '/usr/local/mysql/bin'];

export interface MysqlBinary {
  server: string;
  flavour: 'mariadb' | 'mysql';
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

/** Finds mariadbd or mysqld on the search path; null when there is none. */
export async function findMysqlBinary(searchPath: string): Promise<MysqlBinary | null> {
  const dirs = [...searchPath.split(path.delimiter).filter(Boolean)];
  for (const name of ['mariadbd', 'mysqld']) {
    for (const dir of dirs) {
      const file = path.join(dir, name);
      if (!(await isExecutable(file))) continue;
      const { stdout } = await run(file, ['--version']);
      return { server: file, flavour: /mariadb/i.test(stdout) ? 'mariadb' : 'mysql' };
    }
  }
  return null;
}

export function defaultSearchPath(env: NodeJS.ProcessEnv): string {
  return [env.PATH ?? '', ...EXTRA_DIRS].join(path.delimiter);
}

export interface PrivateServerOptions {
  binary: MysqlBinary;
  dataDir: string;
  database: string;
  /** Extra server options, e.g. `--max-connections=20`. */
  serverArgs?: string[];
  startupTimeoutMs?: number;
}

const asRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

async function initialise(binary: MysqlBinary, dataDir: string): Promise<void> {
  try {
    await access(path.join(dataDir, 'mysql'));
    return; // initialised by an earlier run: keep the data
  } catch {}
  await mkdir(dataDir, { recursive: true });
  const user = asRoot() ? ['--user=root'] : [];
  if (binary.flavour === 'mariadb') {
    const installDb = path.join(path.dirname(binary.server), '..', 'bin', 'mariadb-install-db');
    const candidates = [installDb, '/usr/bin/mariadb-install-db', 'mariadb-install-db'];
    const tool = (await Promise.all(candidates.map(async (c) => ((await isExecutable(c)) ? c : null)))).find(
      Boolean,
    );
    await run(tool ?? 'mariadb-install-db', [
      '--no-defaults',
      ...user,
      `--datadir=${dataDir}`,
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
    ]);
  } else {
    await run(binary.server, ['--no-defaults', ...user, '--initialize-insecure', `--datadir=${dataDir}`]);
  }
}

/**
 * A private mariadbd/mysqld: its own datadir, socket and a free port on 127.0.0.1;
 * root without a password, reachable only from this machine.
 */
export async function startPrivateServer(options: PrivateServerOptions): Promise<MysqlServer> {
  const dataDir = path.resolve(options.dataDir);
  await initialise(options.binary, dataDir);
  const port = await freePort();
  // Unix sockets paths are limited to ~107 bytes; a deep datadir would not fit.
  const socket =
    dataDir.length < 80
      ? path.join(dataDir, 'mysqld.sock')
      : path.join(os.tmpdir(), `sb-mysqld-${port}.sock`);
  const args = [
    '--no-defaults',
    ...(asRoot() ? ['--user=root'] : []),
    `--datadir=${dataDir}`,
    '--bind-address=127.0.0.1',
    `--port=${port}`,
    `--socket=${socket}`,
    `--pid-file=${path.join(dataDir, 'mysqld.pid')}`,
    `--log-error=${path.join(dataDir, 'error.log')}`,
    '--skip-name-resolve',
    ...(options.serverArgs ?? []),
  ];
  const url = `mysql://root@127.0.0.1:${port}/${options.database}`;
  const serverUrl = withDatabase(url, '');
  const timeout = options.startupTimeoutMs ?? 60_000;
  let child: ChildProcess | undefined;

  const start = async () => {
    const proc = spawn(options.binary.server, args, { stdio: 'ignore' });
    child = proc;
    let alive = true;
    proc.once('exit', () => {
      alive = false;
    });
    try {
      return await waitForMysql(serverUrl, timeout, () => alive);
    } catch (err) {
      const log = await readFile(path.join(dataDir, 'error.log'), 'utf8').catch(() => '');
      throw new Error(`${(err as Error).message}\n${log.split('\n').slice(-15).join('\n')}`);
    }
  };
  const stop = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  };

  const version = await start();
  // The chain hands out a URL with the database: make sure it exists.
  const mysql = await import('mysql2/promise');
  const conn = await mysql.createConnection({ uri: serverUrl });
  await conn.query(`CREATE DATABASE IF NOT EXISTS \`${options.database}\``);
  await conn.end();

  return {
    origin: 'binary',
    url,
    host: '127.0.0.1',
    port,
    version,
    description: `private ${path.basename(options.binary.server)} (MySQL ${version}) on 127.0.0.1:${port}, data in ${dataDir}`,
    stopServer: stop,
    async startServer() {
      await start();
    },
    close: stop,
  };
}
