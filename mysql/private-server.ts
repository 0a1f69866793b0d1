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
  /** One line per notable step: a stale server stopped, a crash recovered. */
  log?: (line: string) => void;
}

/** Whether the process is alive and a MySQL server on this datadir (its command line says so). */
async function serverOn(pid: number, dataDir: string): Promise<boolean> {
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return cmdline.split('\0').includes(`--datadir=${dataDir}`);
}

/**
 * A server an earlier start left running on this datadir (its start process was killed with
 * SIGKILL, so nothing stopped it): found by its pid file, stopped as a clean shutdown would
 * (SIGTERM, SIGKILL after 30 s), so that never two servers hold one datadir.
 */
async function stopStaleServer(dataDir: string, log: (line: string) => void): Promise<void> {
  const pid = Number((await readFile(path.join(dataDir, 'mysqld.pid'), 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pid) || pid <= 0 || !(await serverOn(pid, dataDir))) return;
  log(`MySQL: a server from an earlier start (pid ${pid}) still runs on ${dataDir}; stopping it first`);
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 30_000;
  while (await serverOn(pid, dataDir)) {
    if (Date.now() > deadline) {
      log(`MySQL: pid ${pid} did not stop in 30 s; killing it (its crash recovery runs on the next start)`);
      process.kill(pid, 'SIGKILL');
      break;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The part of the error log written since `offset`: what this start said. */
async function logSince(file: string, offset: number): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.slice(offset);
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

/** The server's options: this datadir, a socket beside it, loopback and this port only. */
function serverArgs(dataDir: string, port: number, extra: string[]): string[] {
  // Unix sockets paths are limited to ~107 bytes; a deep datadir would not fit.
  const socket =
    dataDir.length < 80
      ? path.join(dataDir, 'mysqld.sock')
      : path.join(os.tmpdir(), `sb-mysqld-${port}.sock`);
  return [
    '--no-defaults',
    ...(asRoot() ? ['--user=root'] : []),
    `--datadir=${dataDir}`,
    '--bind-address=127.0.0.1',
    `--port=${port}`,
    `--socket=${socket}`,
    `--pid-file=${path.join(dataDir, 'mysqld.pid')}`,
    `--log-error=${path.join(dataDir, 'error.log')}`,
    '--skip-name-resolve',
    ...extra,
  ];
}

/**
 * A private mariadbd/mysqld: its own datadir, socket and a free port on 127.0.0.1;
 * root without a password, reachable only from this machine.
 */
export async function startPrivateServer(options: PrivateServerOptions): Promise<MysqlServer> {
  const dataDir = path.resolve(options.dataDir);
  const log = options.log ?? (() => {});
  await stopStaleServer(dataDir, log);
  await initialise(options.binary, dataDir);
  const port = await freePort();
  const args = serverArgs(dataDir, port, options.serverArgs ?? []);
  const url = `mysql://root@127.0.0.1:${port}/${options.database}`;
  const serverUrl = withDatabase(url, '');
  const timeout = options.startupTimeoutMs ?? 60_000;
  let child: ChildProcess | undefined;

  const errorLog = path.join(dataDir, 'error.log');
  const start = async () => {
    const logOffset = (await readFile(errorLog, 'utf8').catch(() => '')).length;
    // Its own process group: a terminal's Ctrl-C goes to the start process, which stops the
    // server after the replicas that use it, not to the server under them.
    const proc = spawn(options.binary.server, args, { stdio: 'ignore', detached: true });
    child = proc;
    let alive = true;
    proc.once('exit', () => {
      alive = false;
    });
    try {
      const version = await waitForMysql(serverUrl, timeout, () => alive);
      // InnoDB says so when it replays its redo log after a server was killed.
      if (/crash recovery/i.test(await logSince(errorLog, logOffset)))
        log(
          'MySQL: the server was not shut down cleanly last time; InnoDB crash recovery ran (see error.log)',
        );
      return version;
    } catch (err) {
      const said = await logSince(errorLog, 0);
      throw new Error(`${(err as Error).message}\n${said.split('\n').slice(-15).join('\n')}`);
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
    async kill() {
      const proc = child;
      child = undefined;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      proc.kill('SIGKILL');
      await exited;
    },
    close: stop,
  };
}
