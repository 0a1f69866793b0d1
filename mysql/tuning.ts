import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { SQL_DIR } from './migrate.ts';

/** The [mysqld] settings of a .cnf file as server options (`--key=value`), comments dropped. */
export function cnfToArgs(text: string): string[] {
  const args: string[] = [];
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    if (!line) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = header[1] as string;
      continue;
    }
    if (section !== 'mysqld' && section !== 'mariadbd') continue;
    const [key, ...rest] = line.split('=');
    const value = rest.join('=').trim();
    args.push(value ? `--${key?.trim()}=${value}` : `--${key?.trim()}`);
  }
  return args;
}

/** sql/tuning.cnf as server options, for a MySQL the provisioning chain starts. */
export async function tuningArgs(): Promise<string[]> {
  return cnfToArgs(await readFile(path.join(SQL_DIR, 'tuning.cnf'), 'utf8'));
}
