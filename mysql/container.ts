import { randomBytes } from 'node:crypto';
import { GenericContainer, getContainerRuntimeClient, type StartedTestContainer, Wait } from 'testcontainers';
import { freePort } from './net.ts';
import type { MysqlServer } from './server.ts';
import { waitForMysql } from './wait.ts';

/** The one place the default image tag lives. */
export const DEFAULT_MYSQL_IMAGE = 'mysql:8.4.3';

export interface ContainerOptions {
  image: string;
  database: string;
  /** Keep the data here (bind mount) instead of in the container. */
  dataDir?: string;
  /** Extra server options, e.g. `--max-connections=20`. */
  serverArgs?: string[];
  startupTimeoutMs?: number;
  /** Needed again when a kept dataDir is reused: the server was initialised with it. */
  rootPassword?: string;
  /** One line per notable step (a container left by an earlier start, removed). */
  log?: (line: string) => void;
}

const DATADIR_LABEL = 'org.systembreaker.datadir';

/**
 * A container an earlier start left running on this datadir (its start process was killed
 * with SIGKILL; the reaper is off): removed first, so that never two servers hold one datadir.
 */
async function removeStaleContainers(dataDir: string, log: (line: string) => void): Promise<void> {
  const client = await getContainerRuntimeClient();
  // Stopped ones too: a container killed with its start process stays, exited, until removed.
  const stale = await client.container.dockerode.listContainers({
    all: true,
    filters: { label: [`${DATADIR_LABEL}=${dataDir}`] },
  });
  for (const c of stale) {
    const container = client.container.dockerode.getContainer(c.Id);
    if (c.State === 'running') {
      log(
        `MySQL: a container from an earlier start (${c.Id.slice(0, 12)}) still runs on ${dataDir}; removing it first`,
      );
      await container.stop({ t: 20 }); // a clean shutdown first, as Ctrl-C would have given it
    }
    await container.remove({ force: true, v: true });
  }
}

/**
 * A MySQL container started by testcontainers. The host port is fixed at start so
 * that stopServer/startServer (outage tests) bring it back where clients expect it.
 */
export async function startMysqlContainer(options: ContainerOptions): Promise<MysqlServer> {
  const rootPassword = options.rootPassword ?? randomBytes(12).toString('hex');
  if (options.dataDir) await removeStaleContainers(options.dataDir, options.log ?? (() => {}));
  const port = await freePort();
  let builder = new GenericContainer(options.image)
    .withEnvironment({ MYSQL_ROOT_PASSWORD: rootPassword, MYSQL_DATABASE: options.database })
    .withExposedPorts({ container: 3306, host: port })
    .withLabels({
      'org.systembreaker.role': 'mysql',
      ...(options.dataDir ? { [DATADIR_LABEL]: options.dataDir } : {}),
    })
    .withWaitStrategy(Wait.forListeningPorts())
    .withStartupTimeout(options.startupTimeoutMs ?? 120_000)
    .withCommand(['mysqld', ...(options.serverArgs ?? [])]);
  // Without a dataDir the data lives in the container's own layer: it survives
  // stopServer/startServer (a tmpfs would not) and goes with the container.
  if (options.dataDir) {
    builder = builder.withBindMounts([{ source: options.dataDir, target: '/var/lib/mysql', mode: 'rw' }]);
  }

  const container: StartedTestContainer = await builder.start();
  const host = container.getHost();
  const url = new URL('mysql://');
  url.hostname = host;
  url.port = String(port);
  url.username = 'root';
  url.password = rootPassword;
  url.pathname = `/${options.database}`;
  let version: string;
  try {
    version = await waitForMysql(url.toString(), options.startupTimeoutMs ?? 120_000);
  } catch (err) {
    await container.stop({ remove: true, removeVolumes: true });
    throw err;
  }

  const client = await getContainerRuntimeClient();
  const raw = () => client.container.getById(container.getId());
  let closed = false;
  return {
    origin: 'docker',
    url: url.toString(),
    host,
    port,
    version,
    description: `container ${container.getId().slice(0, 12)} (${options.image}, MySQL ${version}) on ${host}:${port}`,
    async stopServer() {
      await client.container.stop(raw(), { timeout: 10 });
    },
    async kill() {
      await raw().kill({ signal: 'SIGKILL' });
      await raw().wait();
    },
    async startServer() {
      await client.container.start(raw());
      await waitForMysql(url.toString(), options.startupTimeoutMs ?? 120_000);
    },
    async close() {
      if (closed) return;
      closed = true;
      await container.stop({ remove: true, removeVolumes: true, timeout: 5 });
    },
  };
}
