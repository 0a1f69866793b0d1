import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { CONNECTION_MODES, FUNCTION_NAMES, STORAGE_ENCODINGS, STRATEGIES } from '../../contract/functions.ts';
import {
  ConfigError,
  commaList,
  goDuration,
  hostList,
  httpUrl,
  int,
  mysqlUrl,
  oneOf,
  type ParsedEnv,
  parseEnv,
  type VariableSpec,
} from './env.ts';

export { ConfigError };

export const SOURCE_KINDS = ['image', 'json'] as const;
export const OVERSIZE_POLICIES = ['reject', 'resize'] as const;
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;

const MiB = 1024 * 1024;

/**
 * Every environment variable the functions read. The README table is generated from
 * this list (`npm run docs:config`), so the two cannot drift apart.
 */
export const VARIABLES = {
  FUNCTION: {
    schema: oneOf(FUNCTION_NAMES),
    allowed: FUNCTION_NAMES.join(' | '),
    default: undefined,
    description: 'Which function this server runs (the function server needs it; handlers do not).',
  },
  http_port: {
    schema: int(0, 65535),
    allowed: 'integer 0–65535 (0 = any free port)',
    default: '3000',
    description: "Port of the function server; of-watchdog's `upstream_url` points here.",
  },
  HTTP_HOST: {
    schema: z.string().min(1),
    allowed: 'an address to bind',
    default: '127.0.0.1',
    description: 'Address the function server binds; of-watchdog runs in the same container.',
  },
  MYSQL_URL: {
    schema: mysqlUrl.optional(),
    allowed: 'mysql://user:password@host:port/database',
    default: undefined,
    description: 'For local use only: the whole connection in one URL. Overrides the MYSQL_* settings below.',
  },
  MYSQL_HOST: {
    schema: z.string().min(1),
    allowed: 'host name or address',
    default: '127.0.0.1',
    description: 'MySQL host.',
  },
  MYSQL_PORT: {
    schema: int(1, 65535),
    allowed: 'integer 1–65535',
    default: '3306',
    description: 'MySQL port.',
  },
  MYSQL_DATABASE: {
    schema: z.string().regex(/^[A-Za-z0-9_]{1,64}$/),
    allowed: 'letters, digits and _ (at most 64)',
    default: 'systembreaker',
    description: 'Database that holds the `cats` table.',
  },
  MYSQL_USER: {
    schema: z.string().min(1).max(80),
    allowed: 'a MySQL user name',
    default: 'systembreaker',
    description: 'MySQL user; give each function its own least-privilege user (see sql/users.sql).',
  },
  MYSQL_PASSWORD_SECRET: {
    schema: z.string().regex(/^[A-Za-z0-9._-]+$/),
    allowed: 'a secret name (letters, digits, . _ -)',
    default: 'mysql-password',
    description: 'Name of the OpenFaaS secret (a file in SECRETS_DIR) holding the MySQL password.',
  },
  SECRETS_DIR: {
    schema: z.string().min(1),
    allowed: 'a directory',
    default: '/var/openfaas/secrets',
    description: 'Where OpenFaaS mounts secrets as files.',
  },
  DB_POOL_SIZE: {
    schema: int(1, 1000),
    allowed: 'integer 1–1000',
    default: '10',
    description: 'Connections in the mysql2 pool of each replica.',
  },
  DB_CONNECT_TIMEOUT_MS: {
    schema: int(100, 120_000),
    allowed: 'integer 100–120000',
    default: '3000',
    description: 'How long to wait for a MySQL connection before answering 503 DB_UNAVAILABLE.',
  },
  DB_QUEUE_LIMIT: {
    schema: int(0, 100_000).optional(),
    allowed: 'integer 0–100000',
    default: undefined,
    description:
      'Most statements a replica lets wait for a pool connection; past it a call is answered 503 DB_QUEUE_FULL at once. Unset: a call is refused when the queue ahead of it would outlast its deadline (from the mean time a statement holds a connection).',
  },
  DB_QUERY_TIMEOUT_MS: {
    schema: int(0, 600_000),
    allowed: 'integer 0–600000 (0 = no limit)',
    default: '5000',
    description:
      'Server-side limit on every randshow and dbstats query: MySQL stops it and the function answers 504 DB_TIMEOUT. Keep it under the watchdog’s exec_timeout.',
  },
  DB_CONNECTION_MODE: {
    schema: oneOf(CONNECTION_MODES),
    allowed: CONNECTION_MODES.join(' | '),
    default: 'naive',
    description:
      '`naive`: a fixed pool of DB_POOL_SIZE per replica, as most functions do. `budget`: the pool is sized from the server’s max_connections (see DB_BUDGET_*), idles out fast, and retries “too many connections” with jittered backoff before a 503.',
  },
  DB_BUDGET_UTILISATION: {
    schema: z.coerce.number().gt(0).max(1),
    allowed: 'a number in (0, 1]',
    default: '0.8',
    description: 'budget mode: the share of max_connections the functions may use together.',
  },
  DB_BUDGET_SHARE: {
    schema: z.coerce.number().gt(0).max(1),
    allowed: 'a number in (0, 1]',
    default: '1',
    description:
      'budget mode: this function’s part of that share (e.g. its max replicas ÷ all functions’ max replicas).',
  },
  DB_BUDGET_MAX_REPLICAS: {
    schema: int(1, 10_000),
    allowed: 'integer 1–10000',
    default: '20',
    description: 'budget mode: the most replicas this function scales to (com.openfaas.scale.max).',
  },
  DB_BUDGET_IDLE_MS: {
    schema: int(100, 3_600_000),
    allowed: 'integer 100–3600000',
    default: '5000',
    description: 'budget mode: idle pool connections are closed after this long.',
  },
  DB_BUDGET_RECHECK_MS: {
    schema: int(100, 3_600_000),
    allowed: 'integer 100–3600000',
    default: '60000',
    description: 'budget mode: how often max_connections is read again (it can change at run time).',
  },
  DB_RETRY_ATTEMPTS: {
    schema: int(0, 20),
    allowed: 'integer 0–20',
    default: '4',
    description:
      'budget mode: tries after “too many connections” before answering 503 DB_TOO_MANY_CONNECTIONS.',
  },
  DB_IDLE_TIMEOUT_MS: {
    schema: int(1000, 3_600_000),
    allowed: 'integer 1000–3600000',
    default: '60000',
    description: 'Idle pool connections are closed after this long.',
  },
  CAT_SOURCE_URL: {
    schema: httpUrl,
    allowed: 'an http:// or https:// URL',
    default: 'https://cataas.com/cat',
    description: 'Where randstore gets its cat. Configuration only: no request can change it.',
  },
  CAT_SOURCE_KIND: {
    schema: oneOf(SOURCE_KINDS),
    allowed: SOURCE_KINDS.join(' | '),
    default: 'image',
    description:
      '`image`: the URL answers with a picture. `json`: it answers `[{"url": …}]` (TheCatAPI) and that URL is fetched.',
  },
  SOURCE_CONNECT_TIMEOUT_MS: {
    schema: int(100, 120_000),
    allowed: 'integer 100–120000',
    default: '3000',
    description: 'Connect timeout towards the cat source.',
  },
  SOURCE_TIMEOUT_MS: {
    schema: int(100, 300_000),
    allowed: 'integer 100–300000',
    default: '10000',
    description:
      'Deadline for the whole fetch (headers and body); past it randstore answers 504 SOURCE_TIMEOUT.',
  },
  SOURCE_MAX_BYTES: {
    schema: int(1024, 512 * MiB),
    allowed: 'integer 1024–536870912',
    default: String(10 * MiB),
    description: 'Largest response accepted from the cat source; the download stops there.',
  },
  SOURCE_MAX_REDIRECTS: {
    schema: int(0, 20),
    allowed: 'integer 0–20',
    default: '3',
    description: 'Redirects followed at most.',
  },
  IMAGE_MAX_BYTES: {
    schema: int(1024, 256 * MiB),
    allowed: 'integer 1024–268435456',
    default: String(5 * MiB),
    description: 'Largest image stored (original bytes); keep it below max_allowed_packet ÷ 1.5.',
  },
  IMAGE_MAX_DIMENSION: {
    schema: int(16, 16_384),
    allowed: 'integer 16–16384',
    default: '4096',
    description: 'Largest width or height stored.',
  },
  IMAGE_OVERSIZE: {
    schema: oneOf(OVERSIZE_POLICIES),
    allowed: OVERSIZE_POLICIES.join(' | '),
    default: 'reject',
    description: '`reject`: 502 IMAGE_TOO_LARGE. `resize`: scale down to IMAGE_MAX_DIMENSION and store that.',
  },
  STORAGE_ENCODING: {
    schema: oneOf(STORAGE_ENCODINGS),
    allowed: STORAGE_ENCODINGS.join(' | '),
    default: 'escaped-base64',
    description: 'How randstore stores the bytes: base64 then percent-escaped (the talk), or as they are.',
  },
  RANDSHOW_STRATEGY: {
    schema: oneOf(STRATEGIES),
    allowed: STRATEGIES.join(' | '),
    default: 'order-by-rand',
    description: 'Default row pick of randshow; `?strategy=` overrides it per request.',
  },
  CORS_ORIGINS: {
    schema: commaList().refine((list) =>
      list.every((o) => o === '*' || (URL.canParse(o) && new URL(o).origin === o)),
    ),
    allowed: 'comma-separated origins (https://host[:port]) or *',
    default: '',
    description: 'Origins whose pages may call the function from a browser (CORS). Empty: none.',
  },
  ALLOWED_HOSTS: {
    schema: hostList(true),
    allowed: 'comma-separated host names, or * for any',
    default: '*',
    description:
      'Host headers the function server answers (421 HOST_NOT_ALLOWED to others; loopback names always). `*` in an image: of-watchdog passes on the Host the OpenFaaS gateway was reached by. The local gateway gives its replicas loopback only.',
  },
  MAX_BODY_BYTES: {
    schema: int(0, 64 * MiB),
    allowed: 'integer 0–67108864',
    default: '65536',
    description: 'Largest request body the function server accepts (413 BODY_TOO_LARGE above).',
  },
  DRAIN_TIMEOUT_MS: {
    schema: int(0, 600_000),
    allowed: 'integer 0–600000',
    default: '15000',
    description: 'On SIGTERM, how long in-flight requests may take before the server closes anyway.',
  },
  SHUTDOWN_GRACE_MS: {
    schema: int(0, 600_000).optional(),
    allowed: 'integer 0–600000',
    default: undefined,
    description:
      'On SIGTERM, keep serving this long before draining. Default: of-watchdog’s `healthcheck_interval` (else its `write_timeout`) plus 1 s when either is set, else 0 — the watchdog keeps accepting for that interval after SIGTERM.',
  },
  NODE_OPTIONS: {
    schema: z.string().optional(),
    allowed: 'node’s command-line options',
    default: undefined,
    description:
      'Node’s own, read by node as the replica starts, not by the server. stack.yml gives every function `--max-semi-space-size=4`: V8’s young generation at 4 MiB a half instead of 16, so a randstore replica held 110 MiB instead of 144 after 12 s at 100 calls/s, for about 6 % of its rate.',
  },
  exec_timeout: {
    schema: goDuration.optional(),
    allowed: 'a Go duration (5s, 500ms, 1m) or whole seconds',
    default: undefined,
    description:
      'of-watchdog’s own setting, read here too: the longest a call may take. Work that cannot finish by then is not started, and what runs when it passes is stopped (KILL QUERY). A caller may ask for less with the x-request-timeout-ms header.',
  },
  healthcheck_interval: {
    schema: goDuration.optional(),
    allowed: 'a Go duration (5s, 500ms, 1m) or whole seconds',
    default: undefined,
    description:
      'of-watchdog’s own setting, read here too: how long the watchdog keeps accepting requests after SIGTERM.',
  },
  write_timeout: {
    schema: goDuration.optional(),
    allowed: 'a Go duration (5s, 500ms, 1m) or whole seconds',
    default: undefined,
    description: 'of-watchdog’s own setting; it stands in for healthcheck_interval when that is unset.',
  },
  LOG_LEVEL: {
    schema: oneOf(LOG_LEVELS),
    allowed: LOG_LEVELS.join(' | '),
    default: 'info',
    description: 'Least severe log line written (JSON lines on stderr).',
  },
} satisfies Record<string, VariableSpec>;

export type Config = ParsedEnv<typeof VARIABLES>;

/** Parses the functions' environment once, at start (see parseEnv). */
export function parseConfig(
  env: Readonly<Record<string, string | undefined>>,
  required: ReadonlyArray<keyof typeof VARIABLES> = [],
): Config {
  return parseEnv(VARIABLES, env, required);
}

/** How much longer than the watchdog's grace the server keeps listening, so no request it forwards finds the port closed. */
export const WATCHDOG_GRACE_MARGIN_MS = 1000;

/**
 * How long the server keeps serving after SIGTERM before it drains. of-watchdog (http mode)
 * passes SIGTERM on to the function process at once but keeps accepting requests itself for
 * healthcheck_interval (falling back to write_timeout); a server that stopped listening then
 * would turn each of them into a 500. Source: of-watchdog pkg/watchdog.go listenUntilShutdown,
 * executor/http_runner.go (SIGTERM relayed to the child).
 */
export function shutdownGraceMs(config: Config): number {
  if (config.SHUTDOWN_GRACE_MS !== undefined) return config.SHUTDOWN_GRACE_MS;
  const watchdogGrace = config.healthcheck_interval ?? config.write_timeout;
  return watchdogGrace === undefined ? 0 : watchdogGrace + WATCHDOG_GRACE_MARGIN_MS;
}

export interface MysqlConnectionSettings {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

/**
 * Where to connect, with the password read from its secret file. MYSQL_URL (local use)
 * carries its own password; otherwise the secret file must exist.
 */
export async function resolveMysqlSettings(config: Config): Promise<MysqlConnectionSettings> {
  if (config.MYSQL_URL) return mysqlSettingsFromUrl(config.MYSQL_URL);
  const password = await readSecret(config.SECRETS_DIR, config.MYSQL_PASSWORD_SECRET);
  return {
    host: config.MYSQL_HOST,
    port: config.MYSQL_PORT,
    user: config.MYSQL_USER,
    password,
    database: config.MYSQL_DATABASE,
  };
}

export function mysqlSettingsFromUrl(url: string): MysqlConnectionSettings {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: u.port ? Number(u.port) : 3306,
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database: decodeURIComponent(u.pathname.replace(/^\//, '')) || 'systembreaker',
  };
}

/**
 * Reads an OpenFaaS secret file; a trailing newline (as `echo` leaves) is not part of it.
 * Unreadable: a ConfigError naming the file and `fix`, what the user should do about it.
 */
export async function readSecret(
  dir: string,
  name: string,
  fix = `create it with \`faas-cli secret create ${name}\`, or set MYSQL_URL for local use`,
): Promise<string> {
  const file = path.join(dir, name);
  try {
    return (await readFile(file, 'utf8')).replace(/\r?\n$/, '');
  } catch (err) {
    throw new ConfigError([
      `secret ${name} could not be read from ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)}): ${fix}`,
    ]);
  }
}
