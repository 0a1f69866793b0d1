import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  compiledEntry,
  compileEntry,
  FUNCTION_SERVER_ENTRY,
  replicaArgs,
} from '../../gateway/function-bundle.ts';

const run = promisify(execFile);
let dir: string;
const compiledHere: string[] = [];
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'sb-bundle-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await Promise.all(compiledHere.map((f) => rm(f, { force: true })));
});

describe('the compiled function server the local replicas run', () => {
  it('starts under plain node, no TypeScript loader: a bad variable is refused in the server’s own words', async () => {
    const program = await compiledEntry();
    expect(program).toMatch(/node_modules\/\.cache\/systembreaker\/functions-server-main-[0-9a-f]{16}\.mjs$/);
    const failed = await run(process.execPath, replicaArgs(program), {
      env: { PATH: process.env.PATH ?? '', FUNCTION: 'nope' },
    }).catch((e: { code: number; stderr: string }) => e);
    expect(failed).toMatchObject({ code: 2 });
    expect((failed as { stderr: string }).stderr).toMatch(/FUNCTION/);
  });

  it('is written once per content: compiling an unchanged tree gives the same file', async () => {
    const first = await compileEntry(FUNCTION_SERVER_ENTRY);
    const again = await compileEntry(FUNCTION_SERVER_ENTRY);
    expect(again).toBe(first);
    expect((await readFile(first, 'utf8')).length).toBeGreaterThan(10_000);
  });

  it('names the TypeScript file and line in a stack trace', async () => {
    const entry = path.join(dir, 'thrower.ts');
    await writeFile(entry, 'const where: string = "here";\n\nthrow new Error(`thrown ${where}`);\n');
    const program = await compileEntry(entry);
    compiledHere.push(program);
    const failed = await run(process.execPath, replicaArgs(program)).catch((e: { stderr: string }) => e);
    const { stderr } = failed as { stderr: string };
    expect(stderr).toContain('thrown here');
    expect(stderr).toMatch(/thrower\.ts:3/);
  });
});
