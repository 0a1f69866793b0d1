import type { LOG_LEVELS } from './config.ts';

export type LogLevel = (typeof LOG_LEVELS)[number];
type Fields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

function errorFields(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const e = err as Error & { code?: unknown; cause?: unknown };
  return { name: e.name, message: e.message, code: e.code, cause: errorFields(e.cause) };
}

/** JSON lines on a stream (stderr by default), one object per event. */
export function createLogger(
  level: LogLevel,
  base: Fields = {},
  write: (line: string) => void = (line) => process.stderr.write(line),
): Logger {
  const emit = (lvl: LogLevel, msg: string, fields?: Fields) => {
    if (RANK[lvl] < RANK[level]) return;
    const entry: Fields = { time: new Date().toISOString(), level: lvl, msg, ...base, ...fields };
    if ('err' in entry) entry.err = errorFields(entry.err);
    write(`${JSON.stringify(entry)}\n`);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}

export const silentLogger: Logger = createLogger('silent');

/**
 * For a background loop that fails again and again (a scrape, a sizing query): logs the
 * first failure at once, then at most one line per `intervalMs` saying how many were not
 * logged meanwhile. Nothing a loop hits is swallowed, and nothing floods the log.
 */
export function rateLimitedWarn(
  log: Logger,
  msg: string,
  intervalMs = 60_000,
  now: () => number = Date.now,
): (fields?: Fields) => void {
  let last = Number.NEGATIVE_INFINITY;
  let suppressed = 0;
  return (fields) => {
    const t = now();
    if (t - last < intervalMs) {
      suppressed++;
      return;
    }
    log.warn(msg, { ...fields, ...(suppressed > 0 ? { alsoFailedSinceLastLine: suppressed } : {}) });
    last = t;
    suppressed = 0;
  };
}
