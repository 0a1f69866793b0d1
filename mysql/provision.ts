import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { getContainerRuntimeClient, ImageName } from 'testcontainers';
import { z } from 'zod';
import {
  type ConfigError,
  mysqlUrl,
  oneOf,
  type ParsedEnv,
  parseEnv,
  type VariableSpec,
} from '../functions/lib/env.ts';
import { DEFAULT_MYSQL_IMAGE, startMysqlContainer } from './container.ts';
import { defaultSearchPath, findMysqlBinary, startPrivateServer } from './private-server.ts';
import { type MysqlOrigin, type MysqlServer, withDatabase } from './server.ts';
import { redact, waitForMysql } from './wait.ts';

export const PROVISION_MODES = ['auto', 'url', 'docker', 'binary'] as const;
export type ProvisionMode = (typeof PROVISION_MODES)[number];

/** What the provisioning chain reads from the environment, checked once at its start. */
export const PROVISION_VARIABLES = {
  MYSQL_URL: {
    schema: mysqlUrl.optional(),
    allowed: 'mysql://user:password@host:port/database',
    default: undefined,
    description: 'An existing server, with an admin account: the chain uses it and starts nothing.',
  },
  MYSQL_PROVISION: {
    schema: oneOf(PROVISION_MODES),
    allowed: `one of ${PROVISION_MODES.join(', ')}`,
    default: 'auto',
    description: '`auto` tries the three ways in order; the others force one.',
  },
  MYSQL_IMAGE: {
    schema: z.string().min(1),
    allowed: 'a Docker image reference',
    default: DEFAULT_MYSQL_IMAGE,
    description: 'The image testcontainers starts (it is never pulled if Docker has it).',
  },
  MYSQL_SEARCH_PATH: {
    schema: z.string().min(1).optional(),
    allowed: `directories separated by ${JSON.stringify(path.delimiter)}`,
    default: undefined,
    description: 'Where to look for `mariadbd`/`mysqld`. Default: PATH, then /usr/sbin and /usr/local/sbin.',
  },
} satisfies Record<string, VariableSpec>;

export interface ProvisionOptions {
  env?: NodeJS.ProcessEnv;
  database?: string;
  /**
   * Keep data here across runs (`npm start`). Without it the server is a throwaway:
   * a tmpfs in a container, or a temporary datadir.
   */
  dataDir?: string;
  /** Extra server options for a server this chain starts, e.g. `--max-connections=20`. */
  serverArgs?: string[];
  /** Called with one line per step tried. */
  log?: (line: string) => void;
  /** How a container is started; replaceable so the fall-through can be tested without breaking Docker. */
  startContainer?: typeof startMysqlContainer;
}

export class MysqlProvisionError extends Error {
  override readonly name = 'MysqlProvisionError';
  readonly code = 'MYSQL_UNAVAILABLE';
}

const DOCKER_MISSING = /Could not find a working container runtime strategy/i;

type Vars = ParsedEnv<typeof PROVISION_VARIABLES>;
/** One way of getting a MySQL: the server, or why it could not be had this way. */
type Attempt = (vars: Vars, options: ProvisionOptions, database: string) => Promise<MysqlServer | string>;

const fromUrl: Attempt = async (vars, options, database) => {
  if (!vars.MYSQL_URL) return 'MYSQL_URL is not set';
  const url = withDatabase(vars.MYSQL_URL, database);
  options.log?.(`MySQL: using MYSQL_URL ${redact(url)}`);
  const version = await waitForMysql(withDatabase(url, ''), 10_000);
  return given(url, version);
};

/** What a failed pull says (no registry, no such tag, no rights): the image is not to be had. */
const PULL_FAILED =
  /no such host|pull access denied|manifest unknown|not found|failed to resolve reference|Get "https?:\/\/[^"]*\/v2\/|i\/o timeout|connection refused/i;

/** Whether Docker has the image already; undefined when no engine answers the question. */
async function imageKnown(image: string): Promise<boolean | undefined> {
  try {
    const client = await getContainerRuntimeClient();
    return await client.image.exists(ImageName.fromString(image));
  } catch {
    return undefined;
  }
}

const fromDocker: Attempt = async (vars, options, database) => {
  const image = vars.MYSQL_IMAGE;
  const present = options.startContainer ? undefined : await imageKnown(image);
  try {
    options.log?.(
      present === false
        ? `MySQL: Docker has no ${image} image yet; pulling it (testcontainers)`
        : `MySQL: starting a ${image} container (testcontainers)`,
    );
    const kept = options.dataDir ? await keptDataDir(path.join(options.dataDir, 'docker')) : undefined;
    return await (options.startContainer ?? startMysqlContainer)({
      image,
      database,
      ...(kept ?? {}),
      ...(options.log ? { log: options.log } : {}),
      ...(options.serverArgs ? { serverArgs: options.serverArgs } : {}),
    });
  } catch (err) {
    const message = (err as Error).message;
    if (DOCKER_MISSING.test(message))
      return 'Docker: no Docker engine answers (start dockerd, or set DOCKER_HOST)';
    if (present !== true && PULL_FAILED.test(message))
      return `Docker has no ${image} image and cannot pull it (MYSQL_IMAGE names another)`;
    return `Docker: the ${image} container did not start: ${message.split('\n')[0]}`;
  }
};

const fromBinary: Attempt = async (vars, options, database) => {
  const binary = await findMysqlBinary(
    vars.MYSQL_SEARCH_PATH ?? defaultSearchPath(options.env ?? process.env),
  );
  if (!binary) return 'no mariadbd or mysqld on PATH';
  const dataDir = options.dataDir
    ? path.join(options.dataDir, path.basename(binary.server))
    : await mkdtemp(path.join(os.tmpdir(), 'sb-mysql-'));
  options.log?.(`MySQL: starting a private ${binary.server} instance`);
  const server = await startPrivateServer({
    binary,
    dataDir,
    database,
    ...(options.serverArgs ? { serverArgs: options.serverArgs } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
  if (options.dataDir) return server;
  // A throwaway: its datadir goes with it.
  return {
    ...server,
    async close() {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
};

const ATTEMPTS: ReadonlyArray<[Exclude<ProvisionMode, 'auto'>, Attempt]> = [
  ['url', fromUrl],
  ['docker', fromDocker],
  ['binary', fromBinary],
];

/** How the log names the next way tried, after one that did not work. */
const NEXT: Record<Exclude<ProvisionMode, 'auto'>, string> = {
  url: 'MYSQL_URL',
  docker: 'Docker',
  binary: 'a mariadbd/mysqld binary',
};

/**
 * Finds or starts a MySQL, trying in order: MYSQL_URL (an existing server) →
 * Docker via testcontainers (MYSQL_IMAGE) → a mariadbd/mysqld binary on PATH as a
 * private instance. MYSQL_PROVISION=url|docker|binary picks one path only.
 */
export async function provisionMysql(options: ProvisionOptions = {}): Promise<MysqlServer> {
  let vars: Vars;
  try {
    vars = parseEnv(PROVISION_VARIABLES, options.env ?? process.env);
  } catch (err) {
    throw new MysqlProvisionError((err as ConfigError).problems.join('; '));
  }
  const database = options.database ?? 'systembreaker';
  const tried: string[] = [];
  const modes = ATTEMPTS.filter(([mode]) => vars.MYSQL_PROVISION === 'auto' || vars.MYSQL_PROVISION === mode);
  for (const [i, [mode, attempt]] of modes.entries()) {
    const got = await attempt(vars, options, database);
    if (typeof got !== 'string') return got;
    tried.push(got);
    // One line for a way that did not work (an unset MYSQL_URL is no news), and what comes next.
    const next = modes[i + 1]?.[0];
    if (mode !== 'url') options.log?.(`MySQL: ${got}${next ? ` → trying ${NEXT[next]}` : ''}`);
  }
  throw new MysqlProvisionError(
    [
      'No MySQL could be found or started. Tried:',
      ...tried.map((t) => `  - ${t}`),
      'Any one of these works:',
      '  1. set MYSQL_URL=mysql://root:PASSWORD@HOST:3306/systembreaker to use a server you have;',
      `  2. run a Docker engine (MYSQL_IMAGE picks the image, default ${DEFAULT_MYSQL_IMAGE});`,
      '  3. install a MySQL or MariaDB server binary (e.g. `apt-get install mariadb-server-core`).',
    ].join('\n'),
  );
}

/** A datadir kept across runs, with the root password it was initialised with. */
async function keptDataDir(dataDir: string): Promise<{ dataDir: string; rootPassword: string }> {
  await mkdir(dataDir, { recursive: true });
  const file = `${dataDir}.root-password`;
  try {
    return { dataDir, rootPassword: (await readFile(file, 'utf8')).trim() };
  } catch {
    const rootPassword = randomBytes(16).toString('hex');
    await writeFile(file, `${rootPassword}\n`, { mode: 0o600 });
    return { dataDir, rootPassword };
  }
}

function given(url: string, version: string): MysqlServer {
  const u = new URL(url);
  return {
    origin: 'MYSQL_URL' satisfies MysqlOrigin,
    url,
    host: u.hostname,
    port: Number(u.port || 3306),
    version,
    description: `MYSQL_URL ${redact(url)} (MySQL ${version})`,
    async close() {},
  };
}
