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
  /** A deploy's envProcess (faas-cli sends the stack's fprocess); the image's when absent. */
  envProcess?: string;
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

/** Each scale label the gateway reads: its field, and the numbers it may hold. */
const SCALE_LABELS = {
  min: { label: 'min', min: 0, max: 1000 },
  max: { label: 'max', min: 1, max: 1000 },
  factor: { label: 'factor', min: 0, max: 100 },
  target: { label: 'target', min: 0.001, max: 1e9 },
  targetProportion: { label: 'target-proportion', min: 0.01, max: 1 },
} as const satisfies Record<keyof ScaleLabels, { label: string; min: number; max: number }>;

/**
 * Reads the com.openfaas.scale.* labels, with the edition's defaults for absent ones; a bad
 * value is an error naming the label.
 */
export function scaleLabels(
  fn: string,
  labels: Record<string, string>,
  defaults: ScaleLabels = EDITIONS.ce.defaults,
): ScaleLabels {
  const read = (field: keyof ScaleLabels) => {
    const { label, min, max } = SCALE_LABELS[field];
    const raw = labels[`com.openfaas.scale.${label}`];
    if (raw === undefined) return defaults[field];
    const parsed = z.coerce.number().min(min).max(max).safeParse(raw);
    if (parsed.success) return parsed.data;
    throw new Error(
      `${fn}: label com.openfaas.scale.${label} must be a number from ${min} to ${max}; got ${JSON.stringify(raw)}`,
    );
  };
  const scale = {
    min: read('min'),
    max: read('max'),
    factor: read('factor'),
    target: read('target'),
    targetProportion: read('targetProportion'),
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
