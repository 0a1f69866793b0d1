import { type ParseArgsConfig, parseArgs } from 'node:util';
import { DEFAULT_CALL_PATH, FUNCTION_METRICS, type FunctionCheck } from './gateway.ts';
import { MYSQL_METRICS } from './mysql.ts';
import { parseRange, type Thresholds } from './range.ts';
import { usageError } from './state.ts';

export const PLUGIN = 'check_systembreaker';
export const DEFAULT_TIMEOUT_S = 10;
export const DEFAULT_WINDOW_S = 5;

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
  warning: { type: 'string', short: 'w' },
  critical: { type: 'string', short: 'c' },
  timeout: { type: 'string', short: 't' },
  metric: { type: 'string', short: 'm' },
  window: { type: 'string' },
  gateway: { type: 'string', short: 'H' },
  function: { type: 'string', short: 'f' },
  'metrics-url': { type: 'string' },
  path: { type: 'string' },
  'auth-user': { type: 'string', short: 'a' },
  'auth-password-file': { type: 'string' },
  'mysql-url': { type: 'string' },
  'mysql-password-file': { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

type Values = Partial<Record<keyof typeof OPTIONS, string>>;

const SUBJECTS = {
  function: {
    metrics: FUNCTION_METRICS,
    only: ['function', 'metrics-url', 'path', 'auth-user', 'auth-password-file'],
  },
  mysql: { metrics: MYSQL_METRICS, only: ['mysql-url', 'mysql-password-file'] },
} as const;
type Subject = keyof typeof SUBJECTS;

interface Common {
  metric: string;
  thresholds: Thresholds;
  timeoutS: number;
  windowS: number;
}

export interface FunctionPlan extends Common {
  subject: 'function';
  check: Omit<FunctionCheck, 'auth'>;
  auth?: { user: string; passwordFile: string };
}

export interface MysqlPlan extends Common {
  subject: 'mysql';
  source: { kind: 'dbstats'; gateway: URL } | { kind: 'direct'; url: URL; passwordFile?: string };
}

export type Command =
  | { kind: 'help' }
  | { kind: 'version' }
  | ({ kind: 'check' } & (FunctionPlan | MysqlPlan));

/** No `|` in it: after the status line, Nagios reads one as the start of more perfdata. */
export const USAGE = [
  `Usage: ${PLUGIN} function -H URL -f NAME [-m METRIC] [--path PATH] [--metrics-url URL]`,
  '         [-a USER --auth-password-file FILE] [--window S] [-w RANGE] [-c RANGE] [-t S]',
  `       ${PLUGIN} mysql -H URL [-m METRIC] [--window S] [-w RANGE] [-c RANGE] [-t S]`,
  `       ${PLUGIN} mysql --mysql-url mysql://USER@HOST[:PORT]/DB [--mysql-password-file FILE]`,
  '         [-m METRIC] [--window S] [-w RANGE] [-c RANGE] [-t S]',
  `       ${PLUGIN} -h`,
  `       ${PLUGIN} -V`,
].join('\n');

/** Seconds above 0, as -t and --window take them. */
function seconds(option: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || !(n > 0))
    throw usageError(`${option} ${JSON.stringify(raw)} is not a number of seconds above 0`);
  return n;
}

function httpUrl(option: string, raw: string): URL {
  const url = URL.canParse(raw) ? new URL(raw) : undefined;
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:'))
    throw usageError(`${option} ${JSON.stringify(raw)} is not an http:// or https:// URL`);
  return url;
}

function required(values: Values, key: keyof Values, option: string, subject: Subject): string {
  const value = values[key];
  if (value === undefined) throw usageError(`${subject} needs ${option}`);
  return value;
}

/** The subject, its metric, and no option that belongs to the other subject. */
function subjectOf(positionals: string[], values: Values): { subject: Subject; metric: string } {
  const [subject, extra] = positionals;
  if (subject === undefined) throw usageError('say what to check: function or mysql');
  if (!Object.hasOwn(SUBJECTS, subject))
    throw usageError(`unknown subject ${JSON.stringify(subject)}: function or mysql`);
  if (extra !== undefined) throw usageError(`unexpected argument ${JSON.stringify(extra)}`);
  const s = subject as Subject;
  for (const [other, { only }] of Object.entries(SUBJECTS))
    for (const key of only)
      if (other !== s && values[key] !== undefined) throw usageError(`--${key} is for the ${other} subject`);
  const { metrics } = SUBJECTS[s];
  const metric = values.metric ?? metrics[0];
  if (!(metrics as readonly string[]).includes(metric))
    throw usageError(`-m/--metric ${JSON.stringify(metric)} is not a metric of ${s}: ${metrics.join(', ')}`);
  return { subject: s, metric };
}

function commonOf(values: Values, metric: string): Common {
  const timeoutS = seconds('-t/--timeout', values.timeout, DEFAULT_TIMEOUT_S);
  const windowS = seconds('--window', values.window, DEFAULT_WINDOW_S);
  if (windowS >= timeoutS) {
    throw usageError(
      `--window ${windowS} must be less than the timeout (-t ${timeoutS}): the check waits that long between its two readings`,
    );
  }
  const thresholds: Thresholds = {};
  if (values.warning !== undefined) thresholds.warning = parseRange('-w/--warning', values.warning);
  if (values.critical !== undefined) thresholds.critical = parseRange('-c/--critical', values.critical);
  return { metric, thresholds, timeoutS, windowS };
}

function functionPlan(values: Values, common: Common): FunctionPlan {
  const gateway = httpUrl('-H/--gateway', required(values, 'gateway', '-H/--gateway URL', 'function'));
  const fn = required(values, 'function', '-f/--function NAME', 'function');
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(fn))
    throw usageError(
      `-f/--function ${JSON.stringify(fn)} is not a function name (lowercase letters, digits, - and .)`,
    );
  const path = values.path ?? DEFAULT_CALL_PATH;
  if (!/^[/?]/.test(path)) throw usageError(`--path ${JSON.stringify(path)} must start with / or ?`);
  const metricsUrl = values['metrics-url']
    ? httpUrl('--metrics-url', values['metrics-url'])
    : new URL('metrics', gateway.href.endsWith('/') ? gateway : `${gateway.href}/`);
  const user = values['auth-user'];
  const passwordFile = values['auth-password-file'];
  if ((user === undefined) !== (passwordFile === undefined))
    throw usageError('-a/--auth-user and --auth-password-file go together');
  const check = { gateway, fn, metricsUrl, windowS: common.windowS, path };
  return {
    ...common,
    subject: 'function',
    check,
    ...(user && passwordFile ? { auth: { user, passwordFile } } : {}),
  };
}

function mysqlPlan(values: Values, common: Common): MysqlPlan {
  const raw = values['mysql-url'];
  if ((values.gateway === undefined) === (raw === undefined))
    throw usageError('mysql needs one of -H/--gateway URL (through dbstats) or --mysql-url URL (directly)');
  if (raw === undefined) {
    if (values['mysql-password-file'] !== undefined)
      throw usageError('--mysql-password-file goes with --mysql-url');
    return {
      ...common,
      subject: 'mysql',
      source: { kind: 'dbstats', gateway: httpUrl('-H/--gateway', values.gateway as string) },
    };
  }
  const url = URL.canParse(raw) ? new URL(raw) : undefined;
  if (url?.protocol !== 'mysql:' || !url.hostname || !url.username || url.pathname.length < 2)
    throw usageError(`--mysql-url ${JSON.stringify(raw)} is not mysql://USER@HOST[:PORT]/DATABASE`);
  if (url.password)
    throw usageError('--mysql-url must not hold a password: put it in a file and give --mysql-password-file');
  const passwordFile = values['mysql-password-file'];
  return {
    ...common,
    subject: 'mysql',
    source: { kind: 'direct', url, ...(passwordFile ? { passwordFile } : {}) },
  };
}

/**
 * What the command line asks for. -h wins over everything, as the guidelines want, then -V;
 * any mistake is a PluginError (UNKNOWN) that names the option and the value.
 */
export function parseCommand(args: string[]): Command {
  // A loose first pass: -h must work even beside an option that is wrong.
  const loose = parseArgs({ args, options: OPTIONS, strict: false, allowPositionals: true }).values;
  if (loose.help === true) return { kind: 'help' };
  if (loose.version === true) return { kind: 'version' };
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args, options: OPTIONS, strict: true, allowPositionals: true });
  } catch (err) {
    throw usageError((err as Error).message);
  }
  const values = parsed.values as Values;
  const { subject, metric } = subjectOf(parsed.positionals, values);
  const common = commonOf(values, metric);
  return {
    kind: 'check',
    ...(subject === 'function' ? functionPlan(values, common) : mysqlPlan(values, common)),
  };
}
