import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { runMain, UsageError } from '../functions/lib/cli.ts';
import { README, withSection } from '../scripts/docs-config.ts';
import { CASES } from './cases.ts';
import { createFaultContext } from './context.ts';
import { FAULTS_COMMAND, FAULTS_MARKER, type FaultRow, faultsTable } from './table.ts';

/** The cases `--only GROUP` (or part of a case's name) picks; all of them without it. */
function selected() {
  const only = process.argv.indexOf('--only');
  if (only < 0) return CASES;
  const want = (process.argv[only + 1] ?? '').toLowerCase();
  const picked = CASES.filter((c) => c.group.toLowerCase() === want || c.name.toLowerCase().includes(want));
  if (!want || picked.length === 0)
    throw new UsageError(
      `--only takes a group or part of a case's name; the groups are ${[...new Set(CASES.map((c) => c.group))].join(', ')}`,
    );
  return picked;
}

/**
 * `npm run faults`: every fault case against a local stack of its own (its own MySQL,
 * which it stops and starts), then a table: case → expected → observed. `--markdown` prints
 * it as Markdown; `--readme` writes it into the README's faults section.
 */
async function main(): Promise<void> {
  if (process.argv.includes('--readme') && process.argv.includes('--only'))
    throw new UsageError('--readme writes the whole table: run it without --only');
  const cases = selected();
  const stackFile = fileURLToPath(new URL('../stack.yml', import.meta.url));
  process.stderr.write('starting a local stack with a MySQL of its own…\n');
  const ctx = await createFaultContext(stackFile);
  const rows: FaultRow[] = [];
  let failed = 0;
  try {
    for (const c of cases) {
      process.stderr.write(`${c.group}: ${c.name}…\n`);
      const outcome = await c
        .run(ctx)
        .catch((err: unknown) => ({ observed: `threw ${(err as Error).message}`, pass: false }));
      if (!outcome.pass) failed++;
      rows.push({
        group: c.group,
        case: c.name,
        expected: c.expected,
        observed: outcome.observed,
        ok: outcome.pass ? 'yes' : 'NO',
      });
    }
  } finally {
    await ctx.close();
  }
  console.table(rows);
  if (process.argv.includes('--markdown')) process.stdout.write(`\n${faultsTable(rows)}\n`);
  if (process.argv.includes('--readme')) {
    await writeFile(
      README,
      withSection(await readFile(README, 'utf8'), FAULTS_MARKER, FAULTS_COMMAND, faultsTable(rows)),
    );
    process.stderr.write('README.md: faults table updated from this run\n');
  }
  process.stdout.write(`${rows.length - failed} passed, ${failed} failed\n`);
  if (failed) process.exitCode = 1;
}

await runMain(main);
