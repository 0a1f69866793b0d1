import { readFile, writeFile } from 'node:fs/promises';
import { request } from 'undici';
import type { DbStats } from '../../../contract/functions.ts';
import {
  type FunctionSummary,
  parseRunResults,
  ResultsError,
  type RunResults,
} from '../../../contract/results.ts';
import { UsageError } from '../../../functions/lib/cli.ts';
import { reportAssets } from '../report/assets.ts';
import { renderReport } from '../report/render.ts';

/** What the command-line engines (npm run load, npm run demo) ask of a gateway, and write after a run. */

/** Like k6's setup(): no load is aimed at a target where no gateway answers. */
export async function checkTarget(target: string): Promise<void> {
  const url = `${target.replace(/\/+$/, '')}/healthz`;
  try {
    const res = await request(url, { headersTimeout: 3000, bodyTimeout: 3000 });
    await res.body.dump();
    if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
  } catch (err) {
    const reason = (err as { code?: string }).code ?? (err as Error).message;
    throw new UsageError(
      `no gateway answers at ${target} (GET /healthz: ${reason}); start one with npm start, or set --target`,
    );
  }
}

/** How many cats dbstats reports, or undefined when it does not answer (it is not required). */
export async function storedCats(target: string): Promise<number | undefined> {
  const url = `${target.replace(/\/+$/, '')}/function/dbstats`;
  const { body } = await getJson<DbStats>(url, {}, 3000).catch(() => ({ body: undefined }));
  return body?.rows;
}

/** GET as JSON: its body when the answer is 200, else only the status (the body read and dropped). */
export async function getJson<T>(
  url: string,
  headers: Record<string, string> = {},
  timeoutMs = 5000,
): Promise<{ status: number; body?: T }> {
  const res = await request(url, { headers, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  if (res.statusCode !== 200) {
    await res.body.dump();
    return { status: res.statusCode };
  }
  return { status: 200, body: (await res.body.json()) as T };
}

/** Basic auth for /system/*, from --auth-user and a password file (never a password on the command line). */
export async function authHeaders(user?: string, passwordFile?: string): Promise<Record<string, string>> {
  if (!user && !passwordFile) return {};
  if (!user || !passwordFile) throw new UsageError('--auth-user and --auth-password-file go together');
  let password: string;
  try {
    password = (await readFile(passwordFile, 'utf8')).trim();
  } catch (err) {
    throw new UsageError(
      `cannot read --auth-password-file ${passwordFile}: ${(err as NodeJS.ErrnoException).code}`,
    );
  }
  return { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
}

/** Says once per kind why the replicas or the database are missing from the results. */
export function problemPrinter(prefix = 'load'): (what: string) => void {
  const said = new Set<string>();
  return (what) => {
    const kind = what.replace(/:.*/, '');
    if (said.has(kind)) return;
    said.add(kind);
    const hint = what.endsWith('HTTP 401') ? ' (give --auth-user and --auth-password-file)' : '';
    process.stderr.write(`${prefix}: not recorded while it fails: ${what}${hint}\n`);
  };
}

/**
 * A run's results from a file someone exported; a file that cannot be read, is not JSON or is
 * not a run is the user's mistake (exit 2), named with the flag it came by (`--compare`).
 */
export async function readRunResults(file: string, flag?: string): Promise<RunResults> {
  const named = flag ? `${flag} ${file}` : file;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(
      `cannot read ${named}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${named} is not JSON: ${(err as Error).message}`);
  }
  try {
    return parseRunResults(json);
  } catch (err) {
    if (flag && err instanceof ResultsError) throw new ResultsError(`${named}: ${err.message}`);
    throw err;
  }
}

export async function writeOutputs(results: RunResults, out?: string, report?: string): Promise<void> {
  if (out) {
    await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
    process.stderr.write(`results: ${out}\n`);
  }
  if (report) {
    await writeFile(report, renderReport(results, await reportAssets()));
    process.stderr.write(`report: ${report}\n`);
  }
}

export const errorsOf = (s: FunctionSummary) =>
  Object.entries(s.byCode)
    .map(([c, n]) => `${c}:${n}`)
    .join(' ') || '0';

/** The per-function table at the end of a run. */
export function summarise(results: RunResults): void {
  console.table(
    Object.fromEntries(
      results.summary.map((s) => [
        s.fn,
        {
          count: s.completed,
          'rate/s': s.rate,
          'p50 ms': s.p50,
          'p90 ms': s.p90,
          'p99 ms': s.p99,
          'max ms': s.max,
          errors: errorsOf(s),
          dropped: s.dropped,
        },
      ]),
    ),
  );
}
