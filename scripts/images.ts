/**
 * `npm run images`: builds the function images as `faas-cli build -f stack.yml` does, without
 * faas-cli: for each function, its build context laid out as faas-cli lays out build/<fn>/,
 * then `docker build` with the function's build_args, tagged with the image stack.yml names
 * (`REGISTRY` and `TAG` substituted as faas-cli substitutes them).
 *
 *   NODE_IMAGE, WATCHDOG_IMAGE  the Dockerfile's base images (build args), when set
 *   NPM_REGISTRY                where npm ci fetches packages (a private registry or a mirror);
 *                               on loopback, the build runs with --network host to reach it
 *   --only NAME                 one function
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse } from 'yaml';
import { FUNCTION_NAMES } from '../contract/functions.ts';
import { isLoopback } from '../functions/lib/hosts.ts';
import { parseStack, substituteEnv } from '../gateway/stack.ts';
import { faasBuildContext } from './build-context.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const STACK = 'stack.yml';
const BUILD_ARGS = ['NODE_IMAGE', 'WATCHDOG_IMAGE', 'NPM_REGISTRY'] as const;

class UsageError extends Error {}

/** Runs docker with the terminal's output; resolves with its exit code. */
async function docker(args: string[], quiet = false): Promise<{ code: number; stdout: string }> {
  const proc = spawn('docker', args, { stdio: ['ignore', quiet ? 'pipe' : 'inherit', 'inherit'] });
  let stdout = '';
  proc.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  const [code] = (await once(proc, 'close')) as [number | null];
  return { code: code ?? 1, stdout };
}

/** The images stack.yml names, as faas-cli would tag them with this environment. */
export async function stackImages(env: Readonly<Record<string, string | undefined>> = process.env) {
  const text = await readFile(path.join(ROOT, STACK), 'utf8');
  const raw = parse(substituteEnv(text, env)) as {
    functions: Record<string, { build_args?: Record<string, string> }>;
  };
  return parseStack(text, env).map((f) => ({
    name: f.name,
    image: f.image,
    buildArgs: raw.functions[f.name]?.build_args ?? {},
  }));
}

async function main(): Promise<void> {
  const only = process.argv.indexOf('--only');
  const want = only < 0 ? undefined : process.argv[only + 1];
  if (want !== undefined && !(FUNCTION_NAMES as readonly string[]).includes(want))
    throw new UsageError(`--only takes one of ${FUNCTION_NAMES.join(', ')}; got ${JSON.stringify(want)}`);
  const functions = (await stackImages()).filter((f) => want === undefined || f.name === want);
  const registry = process.env.NPM_REGISTRY;
  let hostNetwork = false;
  if (registry) {
    try {
      hostNetwork = isLoopback(new URL(registry).hostname.replace(/^\[|\]$/g, ''));
    } catch {
      throw new UsageError(`NPM_REGISTRY must be a URL; got ${JSON.stringify(registry)}`);
    }
  }
  const work = await mkdtemp(path.join(os.tmpdir(), 'sb-images-'));
  try {
    for (const fn of functions) {
      const context = path.join(work, fn.name);
      await faasBuildContext(ROOT, STACK, fn.name, context);
      const args = ['build', '-t', fn.image];
      for (const [k, v] of Object.entries(fn.buildArgs)) args.push('--build-arg', `${k}=${v}`);
      for (const k of BUILD_ARGS) if (process.env[k]) args.push('--build-arg', `${k}=${process.env[k]}`);
      // The build's npm reaches a registry on this machine's loopback only from the host's network.
      if (hostNetwork) args.push('--network', 'host');
      process.stderr.write(`\n== ${fn.name}: docker ${args.join(' ')} ${context}\n`);
      const { code } = await docker([...args, context]);
      if (code !== 0) throw new Error(`docker build of ${fn.name} failed (exit ${code})`);
    }
    const sizes = await docker(
      ['image', 'inspect', '--format', '{{index .RepoTags 0}} {{.Size}}', ...functions.map((f) => f.image)],
      true,
    );
    process.stdout.write('\nimage sizes:\n');
    for (const line of sizes.stdout.trim().split('\n')) {
      const [tag, bytes] = line.split(' ');
      process.stdout.write(`  ${tag}  ${(Number(bytes) / 1024 / 1024).toFixed(0)} MiB\n`);
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`npm run images: ${(err as Error).message}\n`);
    process.exit(err instanceof UsageError ? 2 : 1);
  });
}
