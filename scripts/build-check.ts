import { chmod } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { runMain } from '../functions/lib/cli.ts';

export const CHECK_BUNDLE = fileURLToPath(new URL('../dist/check_systembreaker.cjs', import.meta.url));
const ENTRY = fileURLToPath(new URL('../check/main.ts', import.meta.url));

/**
 * Bundles the monitoring plugin with everything it imports (mysql2 included) into one
 * executable file that needs Node alone: no checkout, no node_modules. CommonJS, so that the
 * file runs under any name a monitoring host gives it (`check_systembreaker`, without an
 * extension, is read as CommonJS by every Node since 18; an ES module there needs Node's
 * syntax detection, 20.19 or 22.12 and later). `.cjs` here only because this repository's
 * package.json says "type": "module". The shebang line comes from check/main.ts.
 */
export async function buildCheck(outfile = CHECK_BUNDLE): Promise<string> {
  await build({
    entryPoints: [ENTRY],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node18',
    format: 'cjs',
    logLevel: 'warning',
  });
  await chmod(outfile, 0o755);
  return outfile;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await runMain(async () => {
    process.stdout.write(`written ${await buildCheck()}\n`);
  });
}
