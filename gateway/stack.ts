import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { z } from 'zod';
import type { ScaleLabels } from './autoscale/policies.ts';
import { EDITIONS } from './editions.ts';

/** What the gateway needs of one function in stack.yml. */
export interface FunctionSpec {
  name: string;
  image: string;
  environment: Record<string, string>;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  secrets: string[];
  scale: ScaleLabels;
}

const stringMap = z
  .record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String))
  .default({});

const stackSchema = z.object({
  version: z.union([z.string(), z.number()]).transform(String),
  provider: z.object({ name: z.string(), gateway: z.string().optional() }),
  functions: z.record(
    z.string(),
    z.object({
      image: z.string(),
      environment: stringMap,
      labels: stringMap,
      annotations: stringMap,
      secrets: z.array(z.string()).default([]),
    }),
  ),
});

/**
 * Reads the com.openfaas.scale.* labels, with the edition's defaults for absent ones; a bad
 * value is an error naming the label.
 */
export function scaleLabels(
  fn: string,
  labels: Record<string, string>,
  defaults: ScaleLabels = EDITIONS.ce.defaults,
): ScaleLabels {
  const read = (key: string, fallback: number, min: number, max: number) => {
    const raw = labels[`com.openfaas.scale.${key}`];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min || n > max) {
      throw new Error(
        `${fn}: label com.openfaas.scale.${key} must be a number from ${min} to ${max}; got ${JSON.stringify(raw)}`,
      );
    }
    return n;
  };
  const scale = {
    min: read('min', defaults.min, 0, 1000),
    max: read('max', defaults.max, 1, 1000),
    factor: read('factor', defaults.factor, 0, 100),
    target: read('target', defaults.target, 0.001, 1e9),
    targetProportion: read('target-proportion', defaults.targetProportion, 0.01, 1),
  };
  if (scale.min > scale.max)
    throw new Error(`${fn}: com.openfaas.scale.min (${scale.min}) is above max (${scale.max})`);
  return scale;
}

/** faas-cli's substitution: `${NAME}` and `${NAME:-default}` from the environment. */
export function substituteEnv(text: string, env: Readonly<Record<string, string | undefined>>): string {
  return text.replace(
    /\$\{(\w+)(?::-([^}]*))?\}/g,
    (_, name: string, fallback?: string) => env[name] || (fallback ?? ''),
  );
}

/** Parses a stack.yml text (faas-cli's schema, the parts the gateway uses). */
export function parseStack(
  text: string,
  env: Readonly<Record<string, string | undefined>> = {},
  defaults?: ScaleLabels,
): FunctionSpec[] {
  const stack = stackSchema.parse(parse(substituteEnv(text, env)));
  return Object.entries(stack.functions).map(([name, fn]) => ({
    name,
    image: fn.image,
    environment: fn.environment,
    labels: fn.labels,
    annotations: fn.annotations,
    secrets: fn.secrets,
    scale: scaleLabels(name, fn.labels, defaults),
  }));
}

export async function loadStack(
  file: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
  defaults?: ScaleLabels,
): Promise<FunctionSpec[]> {
  return parseStack(await readFile(file, 'utf8'), env, defaults);
}
