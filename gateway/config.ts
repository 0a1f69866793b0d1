import { z } from 'zod';
import { CATSOURCE_VARIABLES } from '../catsource/config.ts';
import { CONNECTION_MODES } from '../contract/functions.ts';
import { TALK_RULE } from '../contract/openfaas.ts';
import { VARIABLES } from '../functions/lib/config.ts';
import {
  commaList,
  hostList,
  int,
  oneOf,
  type ParsedEnv,
  parseEnv,
  type VariableSpec,
} from '../functions/lib/env.ts';
import { hostnameOf, isLoopback } from '../functions/lib/hosts.ts';
import { POLICY_NAMES } from './autoscale/policies.ts';

/** Settings of the local gateway and `npm start` (the functions' own are in functions/lib/config.ts). */
/** OpenFaaS CE's AlertManager repeats a firing alert every 30 s (its chart's `repeat_interval`). */
const CE_REPEAT_S = 30;

export const GATEWAY_VARIABLES = {
  GATEWAY_HOST: {
    schema: z.string().min(1),
    allowed: 'an address to bind',
    default: '127.0.0.1',
    description: 'Address of the local gateway. Loopback unless you mean to expose the demo.',
  },
  GATEWAY_PORT: {
    schema: int(0, 65535),
    allowed: 'integer 0–65535',
    default: '8080',
    description: 'Port of the local gateway.',
  },
  GATEWAY_ALLOWED_HOSTS: {
    schema: hostList(false),
    allowed: 'comma-separated host names or addresses',
    default: '',
    description:
      'Host headers the gateway answers besides loopback’s (and, when it binds all addresses, this machine’s name and addresses); others get 421 HOST_NOT_ALLOWED.',
  },
  GATEWAY_ALLOWED_ORIGINS: {
    schema: commaList().refine((list) => list.every((o) => URL.canParse(o) && new URL(o).origin === o)),
    allowed: 'comma-separated origins (http://host:port)',
    default: '',
    description:
      'Pages of these origins may change state (POST, PUT, PATCH, DELETE) besides the gateway’s own; a request whose Origin is another gets 403 ORIGIN_NOT_ALLOWED.',
  },
  GATEWAY_UNSAFE_NO_AUTH: {
    schema: oneOf(['true', 'false'] as const).transform((v) => v === 'true'),
    allowed: 'true | false',
    default: 'false',
    description:
      '`npm start` refuses to bind a non-loopback GATEWAY_HOST without GATEWAY_BASIC_AUTH_FILE unless this is true: anyone who reaches it could scale, load and read the functions.',
  },
  GATEWAY_BASIC_AUTH_FILE: {
    schema: z.string().min(1).optional(),
    allowed: 'a file holding `user:password`',
    default: undefined,
    description: 'When set, `/system/*` needs these basic-auth credentials, as on OpenFaaS.',
  },
  SCALING_POLICY: {
    schema: oneOf(POLICY_NAMES),
    allowed: POLICY_NAMES.join(' | '),
    default: 'openfaas-2018',
    description:
      'How the local gateway autoscales, and which OpenFaaS it behaves as (see "Scaling policies"). The default is the talk’s.',
  },
  ALERT_THRESHOLD_RPS: {
    schema: z.coerce.number().min(0),
    allowed: 'a number ≥ 0',
    default: String(TALK_RULE.thresholdRps),
    description: 'The alert rule fires above this many successful calls per second…',
  },
  ALERT_CODES: {
    schema: oneOf(['200', '2xx'] as const),
    allowed: '200 | 2xx',
    default: '200',
    description: 'Which answers the alert counts: `code="200"` only, as OpenFaaS’s stock rule, or any 2xx.',
  },
  ALERT_WINDOW_S: {
    schema: int(1, 600),
    allowed: 'integer 1–600',
    default: String(TALK_RULE.windowS),
    description: '…measured over this window (the rule’s `rate(…[10s])`)…',
  },
  ALERT_FOR_S: {
    schema: int(0, 600),
    allowed: 'integer 0–600',
    default: String(TALK_RULE.forS),
    description: '…held for this long (`for: 5s`).',
  },
  ALERT_REPEAT_S: {
    schema: int(1, 3600).optional(),
    allowed: 'integer 1–3600',
    default: undefined,
    description: `While firing, scale again this often. Default: ${TALK_RULE.repeatS} for openfaas-2018, ${CE_REPEAT_S} for openfaas-ce.`,
  },
  SCALE_DOWN_WINDOW_S: {
    schema: int(0, 3600),
    allowed: 'integer 0–3600',
    default: '30',
    description: 'rps-target scales down only after the load stayed low this long.',
  },
  SCALER_TICK_MS: {
    schema: int(50, 60_000),
    allowed: 'integer 50–60000',
    default: '1000',
    description: 'How often the autoscaler looks at the rates.',
  },
  REPLICA_POOL_SIZE: {
    schema: int(1, 1000).optional(),
    allowed: 'integer 1–1000',
    default: undefined,
    description: "Each replica's DB_POOL_SIZE. Default: the function's value in stack.yml.",
  },
  REPLICA_CONNECTION_MODE: {
    schema: oneOf(CONNECTION_MODES).optional(),
    allowed: CONNECTION_MODES.join(' | '),
    default: undefined,
    description: "Each replica's DB_CONNECTION_MODE. Default: the function's value in stack.yml.",
  },
  UPSTREAM_TIMEOUT_MS: {
    schema: int(100, 600_000),
    allowed: 'integer 100–600000',
    default: '60000',
    description: 'A replica that has not answered by then gets 504 UPSTREAM_TIMEOUT.',
  },
  GATEWAY_ASYNC_QUEUE: {
    schema: int(1, 1_000_000),
    allowed: 'integer 1–1000000',
    default: '1000',
    description: 'Calls /async-function holds before it answers 429 QUEUE_FULL.',
  },
  GATEWAY_ASYNC_CONCURRENCY: {
    schema: int(1, 1000),
    allowed: 'integer 1–1000',
    default: '4',
    description: 'Queued calls run at once (as queue workers × their max_inflight would).',
  },
  GATEWAY_CALLBACK_HOSTS: {
    schema: hostList(false),
    allowed: 'comma-separated host names or addresses',
    default: '',
    description:
      'Hosts an X-Callback-Url may name besides loopback’s; others get 400, so the gateway is no way to reach other machines.',
  },
  STACK_FILE: {
    schema: z.string().min(1),
    allowed: 'a path',
    default: 'stack.yml',
    description: 'Where the functions, their environment and their scale labels come from.',
  },
  DATA_DIR: {
    schema: z.string().min(1),
    allowed: 'a path',
    default: '.data',
    description: '`npm start` keeps MySQL data, generated DB passwords and replica logs here.',
  },
  CAT_SOURCE_PORT: {
    ...CATSOURCE_VARIABLES.CAT_SOURCE_PORT,
    description: 'Port of the local cat source `npm start` runs (0 = any free port).',
  },
  LOG_LEVEL: {
    ...VARIABLES.LOG_LEVEL,
    description: 'Least severe line the gateway logs (JSON lines on stderr); replicas log to .data/logs.',
  },
} satisfies Record<string, VariableSpec>;

export type GatewayConfig = ParsedEnv<typeof GATEWAY_VARIABLES>;

/** How often a firing alert scales again: ALERT_REPEAT_S, else the policy's own. */
export function alertRepeatS(config: GatewayConfig): number {
  return (
    config.ALERT_REPEAT_S ?? (config.SCALING_POLICY === 'openfaas-2018' ? TALK_RULE.repeatS : CE_REPEAT_S)
  );
}

export function parseGatewayConfig(env: Readonly<Record<string, string | undefined>>): GatewayConfig {
  return parseEnv(GATEWAY_VARIABLES, env);
}

/** Why `npm start` must not run as configured (exposed without auth), if it must not. */
export function exposureProblem(config: GatewayConfig): string | undefined {
  if (
    isLoopback(hostnameOf(config.GATEWAY_HOST)) ||
    config.GATEWAY_BASIC_AUTH_FILE ||
    config.GATEWAY_UNSAFE_NO_AUTH
  )
    return undefined;
  return (
    `GATEWAY_HOST=${config.GATEWAY_HOST} puts the gateway beyond this machine without basic auth: anyone who ` +
    'reaches it could scale the functions, start load and read their environment. Set ' +
    'GATEWAY_BASIC_AUTH_FILE to a file holding user:password, or GATEWAY_UNSAFE_NO_AUTH=true if you mean it.'
  );
}
