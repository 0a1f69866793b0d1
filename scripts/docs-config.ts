import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { runMain } from '../functions/lib/cli.ts';
import { VARIABLES } from '../functions/lib/config.ts';
import type { VariableSpec } from '../functions/lib/env.ts';
import { GATEWAY_VARIABLES } from '../gateway/config.ts';
import { PROVISION_VARIABLES } from '../mysql/provision.ts';

export const README = fileURLToPath(new URL('../README.md', import.meta.url));

/** The README's configuration tables, generated from the config schemas. */
const TABLES: Record<string, Record<string, VariableSpec>> = {
  'config-table': VARIABLES,
  'gateway-config-table': GATEWAY_VARIABLES,
  'mysql-config-table': PROVISION_VARIABLES,
};

export function configTable(variables: Record<string, VariableSpec>): string {
  const cell = (text: string) => text.replaceAll('|', '\\|');
  const rows = Object.entries(variables).map(
    ([name, spec]) =>
      `| \`${name}\` | ${spec.default === undefined ? '—' : `\`${spec.default}\``} | ${cell(spec.allowed)} | ${cell(spec.description)} |`,
  );
  return ['| Variable | Default | Allowed | What it does |', '|---|---|---|---|', ...rows].join('\n');
}

/**
 * The README with the generated section between `<!-- marker:begin (command) -->` and
 * `<!-- marker:end -->` replaced by `body`; the command is the one that generates it.
 */
export function withSection(readme: string, marker: string, command: string, body: string): string {
  const begin = `<!-- ${marker}:begin (${command}) -->`;
  const end = `<!-- ${marker}:end -->`;
  const start = readme.indexOf(begin);
  const stop = readme.indexOf(end);
  if (start < 0 || stop < start) throw new Error(`README.md needs the markers ${begin} … ${end}`);
  return `${readme.slice(0, start + begin.length)}\n${body}\n${readme.slice(stop)}`;
}

/** The text between a generated section's markers. */
export function sectionOf(readme: string, marker: string): string {
  const start = readme.indexOf(`<!-- ${marker}:begin`);
  const stop = readme.indexOf(`<!-- ${marker}:end -->`);
  if (start < 0 || stop < start) throw new Error(`README.md has no section ${marker}`);
  return readme.slice(readme.indexOf('\n', start) + 1, stop).trim();
}

export function withConfigTables(readme: string): string {
  let out = readme;
  for (const [marker, variables] of Object.entries(TABLES))
    out = withSection(out, marker, 'npm run docs:config', configTable(variables));
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await runMain(async () => {
    const readme = await readFile(README, 'utf8');
    const updated = withConfigTables(readme);
    if (updated === readme) {
      process.stdout.write('README.md: configuration tables already up to date\n');
      return;
    }
    await writeFile(README, updated);
    process.stdout.write('README.md: configuration tables updated\n');
  });
}
