import { readFile } from 'node:fs/promises';
import pkg from '../package.json' with { type: 'json' };
import { gatherFunction } from './gateway.ts';
import { helpText } from './help.ts';
import { gatherMysql } from './mysql.ts';
import { type Command, type FunctionPlan, type MysqlPlan, PLUGIN, parseCommand, USAGE } from './options.ts';
import { formatNumber, formatOutput, type PluginOutput } from './perfdata.ts';
import { stateOf, type Thresholds } from './range.ts';
import type { Gathered } from './reading.ts';
import { CRITICAL, PluginError, type State, UNKNOWN, usageError, WARNING } from './state.ts';

export const VERSION: string = pkg.version;

/** A password from its file: its first line's end does not belong to it. */
async function secret(option: string, file: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).replace(/\r?\n$/, '');
  } catch (err) {
    throw usageError(`cannot read ${option} ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
}

async function gather(plan: FunctionPlan | MysqlPlan, signal: AbortSignal): Promise<Gathered> {
  if (plan.subject === 'function') {
    const auth = plan.auth && {
      user: plan.auth.user,
      password: await secret('--auth-password-file', plan.auth.passwordFile),
    };
    return gatherFunction({ ...plan.check, ...(auth ? { auth } : {}) }, signal);
  }
  const { source } = plan;
  if (source.kind === 'dbstats') return gatherMysql(source, plan.windowS, signal);
  const password = source.passwordFile ? await secret('--mysql-password-file', source.passwordFile) : '';
  const direct = { kind: 'direct', url: source.url, password, timeoutMs: plan.timeoutS * 1000 } as const;
  return gatherMysql(direct, plan.windowS, signal);
}

/**
 * Runs `work` until it ends or `seconds` pass. Then its signal aborts (so its requests and
 * connections close) and the run ends UNKNOWN, as the guidelines want of a timeout.
 */
export async function withTimeout<T>(seconds: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const expired = new PluginError(UNKNOWN, `timed out after ${formatNumber(seconds)} s`);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort(expired);
      reject(expired);
    }, seconds * 1000);
  });
  const running = work(controller.signal);
  // Past the timeout nobody waits for it; how it ends then does not matter.
  running.catch(() => {});
  try {
    return await Promise.race([running, timeout]);
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}

/** Which range fired, for the status text. */
function firedRange(state: State, thresholds: Thresholds): string {
  if (state === CRITICAL) return ` (critical: ${thresholds.critical?.text})`;
  if (state === WARNING) return ` (warning: ${thresholds.warning?.text})`;
  return '';
}

/**
 * The state and output of a check from what it gathered: the chosen metric decides (its
 * failure, or its value against -w/-c); every reading gives perfdata; the other metrics and
 * what could not be read follow as the long text.
 */
export function verdict(subject: string, metric: string, thresholds: Thresholds, g: Gathered): PluginOutput {
  const perf = g.readings.flatMap((r) => [
    r.metric === metric ? { ...r.perf, ...thresholds } : r.perf,
    ...(r.extra ?? []),
  ]);
  const details = [
    ...g.readings.filter((r) => r.metric !== metric).map((r) => r.text),
    ...g.failures
      .filter((f) => !f.metrics.includes(metric))
      .map((f) => `${f.metrics.join(', ')} not read: ${f.error.message}`),
  ];
  const base = { subject: subject.toUpperCase(), perf, details };
  const failed = g.failures.find((f) => f.metrics.includes(metric));
  if (failed) return { ...base, state: failed.error.state, text: failed.error.message };
  const reading = g.readings.find((r) => r.metric === metric);
  if (!reading) return { ...base, state: UNKNOWN, text: `${metric} was not read` };
  if (reading.unknown) return { ...base, state: UNKNOWN, text: reading.unknown };
  const state = stateOf(reading.perf.value, thresholds);
  return { ...base, state, text: `${reading.text}${firedRange(state, thresholds)}` };
}

function failure(subject: string | undefined, err: unknown): { state: State; output: string } {
  const e =
    err instanceof PluginError ? err : new PluginError(UNKNOWN, String((err as Error)?.message ?? err));
  const details = e.usage ? [USAGE, `See ${PLUGIN} --help`] : [];
  return {
    state: e.state,
    output: formatOutput({ ...(subject ? { subject } : {}), state: e.state, text: e.message, details }),
  };
}

/** The whole plugin but the process: arguments in, exit state and output out. */
export async function runPlugin(args: string[]): Promise<{ state: State; output: string }> {
  let command: Command;
  try {
    command = parseCommand(args);
  } catch (err) {
    return failure(undefined, err);
  }
  // The guidelines: -h and -V end UNKNOWN, so a command definition that runs them by mistake is noticed.
  if (command.kind === 'help') return { state: UNKNOWN, output: helpText(VERSION) };
  if (command.kind === 'version') return { state: UNKNOWN, output: `${PLUGIN} ${VERSION}\n` };
  const plan = command;
  const subject = plan.subject.toUpperCase();
  try {
    const gathered = await withTimeout(plan.timeoutS, (signal) => gather(plan, signal));
    const out = verdict(plan.subject, plan.metric, plan.thresholds, gathered);
    return { state: out.state, output: formatOutput(out) };
  } catch (err) {
    return failure(subject, err);
  }
}
