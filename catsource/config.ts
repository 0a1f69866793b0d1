import { z } from 'zod';
import { int, type ParsedEnv, parseEnv, type VariableSpec } from '../functions/lib/env.ts';

/** What `npm run catsource` reads; `npm start` shares CAT_SOURCE_PORT. */
export const CATSOURCE_VARIABLES = {
  CAT_SOURCE_PORT: {
    schema: int(0, 65535),
    allowed: 'integer 0–65535',
    default: '8090',
    description: 'Port of the local cat source (0 = any free port).',
  },
  CAT_SOURCE_HOST: {
    schema: z.string().min(1),
    allowed: 'an address to bind',
    default: '127.0.0.1',
    description: 'Address of the local cat source (`npm run catsource`).',
  },
} satisfies Record<string, VariableSpec>;

export function parseCatSourceConfig(
  env: Readonly<Record<string, string | undefined>>,
): ParsedEnv<typeof CATSOURCE_VARIABLES> {
  return parseEnv(CATSOURCE_VARIABLES, env);
}
