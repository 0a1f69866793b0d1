import { fstatSync, ftruncateSync, readFileSync, writeSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { runMain, UsageError } from '../functions/lib/cli.ts';
import { readRunResults } from '../loadgen/src/node/gateway-client.ts';
import { reportAssets } from '../loadgen/src/report/assets.ts';
import { renderReport } from '../loadgen/src/report/render.ts';

const usage = `Usage: npm run report -- RESULTS.json [--out REPORT.html]

  Turns a run's results (npm run load -- --out, or the app's Export JSON) into one
  self-contained HTML file: the plan, the per-function table, the peaks and the charts.
  Without --out the HTML goes to stdout: npm run -s report -- results.json > report.html`;

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      out: { type: 'string', short: 'o' },
      help: { type: 'boolean', short: 'h' },
      verbose: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  const [file, ...extra] = positionals;
  if (!file || extra.length) throw new UsageError(`give one results file\n${usage}`);
  const html = renderReport(await readRunResults(file), await reportAssets());
  if (values.out) {
    await writeFile(values.out, html);
    process.stderr.write(`report: ${values.out}\n`);
  } else writeStdout(html);
}

/**
 * Writes the report to stdout. `npm run report -- results.json > report.html` (without -s)
 * has npm write its own banner ("> systembreaker@… report", the command) into the same file
 * first; when stdout is a regular file that starts with that banner, the report replaces it,
 * so the file is the report alone.
 */
function writeStdout(html: string): void {
  const byNpm = process.env.npm_lifecycle_event === 'report' && process.env.npm_config_loglevel !== 'silent';
  let banner = false;
  try {
    banner =
      byNpm &&
      fstatSync(1).isFile() &&
      /^\s*> \S+ report\n/.test(readFileSync('/proc/self/fd/1', 'utf8').slice(0, 4096));
  } catch {
    banner = false; // not Linux, or stdout not readable: write as usual
  }
  if (!banner) {
    process.stdout.write(html);
    return;
  }
  ftruncateSync(1, 0);
  writeSync(1, html, 0);
}

// A reader that stops early (`| head`) is not a failure of the report.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

await runMain(main);
