import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/** A third-party program a test runs against, or why it is not here. */
export type Tool = { path: string; skip?: undefined } | { path?: undefined; skip: string };

const executable = (file: string) => {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/**
 * Finds a real program to test against: the file `envVar` names, else the first of `names`
 * on PATH. Without one the test skips with a reason, unless `requireVar` is set (as CI sets
 * it): then the missing program is an error, so the test cannot silently not run.
 */
export function findTool(envVar: string, names: string[], requireVar: string): Tool {
  const given = process.env[envVar];
  if (given) {
    if (executable(given)) return { path: given };
    throw new Error(`${envVar}=${given} is not an executable file`);
  }
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean))
    for (const name of names) if (executable(path.join(dir, name))) return { path: path.join(dir, name) };
  const reason = `none of ${names.join(', ')} on PATH and ${envVar} unset`;
  if (process.env[requireVar]) throw new Error(`${requireVar} is set but ${reason}`);
  return { skip: reason };
}
