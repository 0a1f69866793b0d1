import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { parseRunResults } from '../contract/results.ts';
import { runMain, UsageError } from '../functions/lib/cli.ts';
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
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(
      `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${file} is not JSON: ${(err as Error).message}`);
  }
  const html = renderReport(parseRunResults(json), await reportAssets());
  if (values.out) {
    await writeFile(values.out, html);
    process.stderr.write(`report: ${values.out}\n`);
  } else process.stdout.write(html);
}

await runMain(main);
