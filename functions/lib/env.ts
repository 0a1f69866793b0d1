import { z } from 'zod';

/** One environment variable: its schema, what is allowed in words, its default, its meaning. */
export interface VariableSpec {
  schema: z.ZodType;
  /** Shown in errors and in the README tables. */
  allowed: string;
  default: string | undefined;
  description: string;
}

export type ParsedEnv<V extends Record<string, VariableSpec>> = { [K in keyof V]: z.output<V[K]['schema']> };

export const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
/** A comma-separated list: each item trimmed (and changed by `item`), empty items dropped. */
export const commaList = (item: (s: string) => string = (s) => s) =>
  z.string().transform((s) =>
    s
      .split(',')
      .map((x) => item(x.trim()))
      .filter(Boolean),
  );
/** What a host name or address in a Host header may be made of, lowercased. */
const HOST_CHARS = /^[a-z0-9.:[\]-]+$/;
const lower = (s: string) => s.toLowerCase();
/** Host names or addresses, lowercased; `*` too when `any` is allowed. */
export const hostList = (any: boolean) =>
  commaList(lower).refine((list) => list.every((h) => (any && h === '*') || HOST_CHARS.test(h)));
export const oneOf = <T extends readonly [string, ...string[]]>(values: T) => z.enum(values);
export const httpUrl = z
  .string()
  .refine((s) => URL.canParse(s) && ['http:', 'https:'].includes(new URL(s).protocol));
export const mysqlUrl = z
  .string()
  .refine((s) => URL.canParse(s) && ['mysql:', 'mariadb:'].includes(new URL(s).protocol));

const GO_UNITS_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/**
 * A duration as of-watchdog reads one, in milliseconds: whole seconds ("5"), or Go's
 * time.ParseDuration syntax ("5s", "1m30s", "500ms"). Source: of-watchdog config/config.go,
 * parseIntOrDurationValue (a non-negative integer means seconds, else time.ParseDuration).
 */
export const goDuration = z.string().transform((s, ctx) => {
  if (/^\d+$/.test(s)) return Number(s) * 1000;
  const parts = [...s.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== s) {
    ctx.addIssue({ code: 'custom', message: 'not a duration' });
    return z.NEVER;
  }
  return parts.reduce((ms, p) => ms + Number(p[1]) * (GO_UNITS_MS[p[2] as string] as number), 0);
});

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'CONFIG_INVALID';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/**
 * Parses an environment against a table of variables, once, at start. Pure: the same
 * env gives the same result. Every bad variable is reported, each naming what is
 * allowed and what was found. An empty value counts as unset.
 */
export function parseEnv<V extends Record<string, VariableSpec>>(
  variables: V,
  env: Readonly<Record<string, string | undefined>>,
  required: ReadonlyArray<keyof V> = [],
): ParsedEnv<V> {
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(variables)) {
    const raw = env[name] === '' ? undefined : env[name];
    const value = raw ?? spec.default;
    if (value === undefined) {
      if (required.includes(name)) problems.push(`${name} is required: allowed ${spec.allowed}`);
      continue;
    }
    const parsed = spec.schema.safeParse(value);
    if (parsed.success) out[name] = parsed.data;
    else problems.push(`${name} must be ${spec.allowed}; got ${JSON.stringify(value)}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out as ParsedEnv<V>;
}
