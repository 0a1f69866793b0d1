import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ROOT } from './process.ts';

export const DOCKERFILE = 'deploy/function-image/Dockerfile';

export interface Instruction {
  cmd: string;
  args: string;
}

export interface Stage {
  name: string;
  instructions: Instruction[];
}

/** The stages of a Dockerfile with their instructions (continuation lines joined, comments dropped). */
export function parseDockerfile(text: string): Stage[] {
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, cmd = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    if (cmd.toUpperCase() === 'FROM') {
      stages.push({ name: /\bAS\s+(\S+)/i.exec(args)?.[1] ?? String(stages.length), instructions: [] });
    } else {
      stages.at(-1)?.instructions.push({ cmd: cmd.toUpperCase(), args: args.replace(/\s+/g, ' ') });
    }
  }
  return stages;
}

/** `KEY=value KEY2="two words"` as ENV and ARG write them. */
export function assignments(args: string): Record<string, string> {
  return Object.fromEntries(
    [...args.matchAll(/(\w+)=("([^"]*)"|\S+)/g)].map((m) => [m[1] as string, m[3] ?? (m[2] as string)]),
  );
}

/** The function image's Dockerfile, its final stage, and the environment that stage sets. */
export async function functionImage(buildArgs: Record<string, string> = {}) {
  const stages = parseDockerfile(await readFile(path.join(ROOT, DOCKERFILE), 'utf8'));
  const final = stages.at(-1) as Stage;
  const env: Record<string, string> = {};
  for (const i of final.instructions.filter((x) => x.cmd === 'ENV'))
    for (const [k, v] of Object.entries(assignments(i.args)))
      env[k] = v.replace(/\$\{(\w+)\}/g, (_, name: string) => buildArgs[name] ?? '');
  const stage = (name: string) => {
    const found = stages.find((s) => s.name === name);
    if (!found) throw new Error(`${DOCKERFILE} has no stage ${name}`);
    return found;
  };
  return { stages, final, env, stage };
}
