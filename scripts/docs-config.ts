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

export function withConfigTables(readme: string): string {
  let out = readme;
  for (const [marker, variables] of Object.entries(TABLES)) {
    const begin = `<!-- ${marker}:begin (npm run docs:config) -->`;
    const end = `<!-- ${marker}:end -->`;
    const start = out.indexOf(begin);
    const stop = out.indexOf(end);
    if (start < 0 || stop < start) throw new Error(`README.md needs the markers ${begin} … ${end}`);
    out = `${out.slice(0, start + begin.length)}\n${configTable(variables)}\n${out.slice(stop)}`;
  }
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
