import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { VARIABLES } from '../functions/lib/config.ts';

export const README = fileURLToPath(new URL('../README.md', import.meta.url));
const BEGIN = '<!-- config-table:begin (npm run docs:config) -->';
const END = '<!-- config-table:end -->';

/** The README's configuration table, generated from the config schema. */
export function configTable(): string {
  const cell = (text: string) => text.replaceAll('|', '\\|');
  const rows = Object.entries(VARIABLES).map(
    ([name, spec]) =>
      `| \`${name}\` | ${spec.default === undefined ? '—' : `\`${spec.default}\``} | ${cell(spec.allowed)} | ${cell(spec.description)} |`,
  );
  return ['| Variable | Default | Allowed | What it does |', '|---|---|---|---|', ...rows].join('\n');
}

export function withConfigTable(readme: string): string {
  const start = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md needs the markers ${BEGIN} … ${END}`);
  return `${readme.slice(0, start + BEGIN.length)}\n${configTable()}\n${readme.slice(end)}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const readme = await readFile(README, 'utf8');
  await writeFile(README, withConfigTable(readme));
  process.stdout.write('README.md: configuration table updated\n');
}
