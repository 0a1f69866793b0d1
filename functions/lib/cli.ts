import { ConfigError } from './env.ts';

/** Errors that are the user's input, not the program's failure: exit 2, as for a usage error. */
const USAGE_ERRORS = new Set(['ConfigError', 'PlanError', 'ResultsError', 'UsageError']);

/** A mistake in how a command was called; its message says what to do. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * How every command of this project ends: the error as one line (each problem of a bad
 * configuration on its own line), no stack trace unless asked for (`DEBUG=1` or `--verbose`),
 * and an exit code: 2 for what the user gave, 1 for what went wrong.
 */
export async function runMain(main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    const verbose = process.env.DEBUG === '1' || process.argv.includes('--verbose');
    const text = e instanceof ConfigError ? e.problems.join('\n') : e.message;
    process.stderr.write(`${verbose && e.stack ? e.stack : text}\n`);
    // node:util parseArgs refuses an unknown or malformed flag with an ERR_PARSE_ARGS_* code.
    const parseArgsError = String((e as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS_');
    process.exit(USAGE_ERRORS.has(e.name) || parseArgsError ? 2 : 1);
  }
}
