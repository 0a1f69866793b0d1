import { cp, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { substituteEnv } from '../gateway/stack.ts';

interface StackForBuild {
  configuration?: { copy?: string[] };
  functions: Record<string, { lang: string; handler: string }>;
}

/**
 * What `faas-cli build` puts in `build/<fn>/` for a `lang: dockerfile` function, reproduced
 * from its source (go-sdk builder/builder.go CreateBuildContext and copy.go; faas-cli's own
 * createBuildContext did the same before it moved there): every top-level entry of the
 * handler folder except ones named `build` and `template`, copied whole (os.Stat: symlinks
 * followed; .dockerignore not read), then each `configuration.copy` path at the same relative
 * path, refused if it leaves the project. `dest` plays build/<fn>/.
 */
export async function faasBuildContext(root: string, stackFile: string, fn: string, dest: string) {
  const text = await readFile(path.join(root, stackFile), 'utf8');
  const stack = parse(substituteEnv(text, {})) as StackForBuild;
  const spec = stack.functions[fn];
  if (!spec) throw new Error(`${stackFile} has no function ${fn}`);
  if (spec.lang !== 'dockerfile') throw new Error(`${fn} is lang ${spec.lang}, not dockerfile`);
  await rm(dest, { recursive: true, force: true });
  const handler = path.resolve(root, spec.handler);
  for (const entry of await readdir(handler)) {
    if (entry === 'build' || entry === 'template') continue;
    await cp(path.join(handler, entry), path.join(dest, entry), { recursive: true, dereference: true });
  }
  for (const extra of stack.configuration?.copy ?? []) {
    const abs = path.resolve(root, extra);
    const rel = path.relative(root, abs);
    if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel))
      throw new Error(`configuration.copy path ${extra} is outside the project`);
    await cp(abs, path.join(dest, extra), { recursive: true, dereference: true });
  }
}
