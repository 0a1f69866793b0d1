import { createHash } from 'node:crypto';
import { access, mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Beside the packages the compiled modules import, so that Node finds them from there. */
const CACHE = path.join(ROOT, 'node_modules/.cache/systembreaker');

export const FUNCTION_SERVER_ENTRY = fileURLToPath(new URL('../functions/server/main.ts', import.meta.url));

/**
 * A TypeScript entry compiled into one ES module, run by plain `node` as the function image runs
 * `node dist/functions/server/main.js`: no TypeScript loader in the process (tsx's costs a
 * replica about 34 MiB and a tenth of its no-op throughput). The packages stay outside the
 * bundle (sharp is native) and resolve from node_modules, which the cache sits in. The file is
 * named by its content and appears by rename, so processes that compile at once agree, and an
 * unchanged tree is not written again. Source maps are inline, without the sources, for
 * `node --enable-source-maps`: a replica's stack traces name the .ts files and lines.
 */
export async function compileEntry(entry: string): Promise<string> {
  // functions/server/main.ts → functions-server-main
  const name = path
    .relative(ROOT, entry)
    .replace(/\.[cm]?ts$/, '')
    .replace(/[^A-Za-z0-9_-]+/g, '-');
  const result = await build({
    entryPoints: [entry],
    // Only to place the source map's paths relative to the cache; nothing is written by esbuild.
    outfile: path.join(CACHE, `${name}.mjs`),
    write: false,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: 'inline',
    sourcesContent: false,
    logLevel: 'warning',
  });
  const code = (result.outputFiles[0] as { contents: Uint8Array }).contents;
  const file = path.join(
    CACHE,
    `${name}-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.mjs`,
  );
  try {
    await access(file);
    return file;
  } catch {}
  await mkdir(CACHE, { recursive: true });
  const partial = `${file}.${process.pid}.partial`;
  await writeFile(partial, code);
  await rename(partial, file);
  return file;
}

const compiled = new Map<string, Promise<string>>();

/** compileEntry once per process and entry. */
export function compiledEntry(entry = FUNCTION_SERVER_ENTRY): Promise<string> {
  let file = compiled.get(entry);
  if (!file) {
    file = compileEntry(entry);
    // A failed compile (a syntax error being fixed) is tried again next time.
    file.catch(() => compiled.delete(entry));
    compiled.set(entry, file);
  }
  return file;
}

/** How a replica's process is started: node, the compiled server, its source maps on. */
export function replicaArgs(program: string): string[] {
  return ['--enable-source-maps', program];
}
