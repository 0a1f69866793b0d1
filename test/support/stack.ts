import { createLogger } from '../../functions/lib/log.ts';
import { parseGatewayConfig } from '../../gateway/config.ts';
import { type LocalStack, type LocalStackOptions, startLocalStack } from '../../gateway/local-stack.ts';
import { ROOT } from './process.ts';

/** The local stack on free ports with a MySQL of its own, as `npm start` builds it. */
export async function startTestStack(
  env: Record<string, string> = {},
  logs: string[] = [],
  more: Pick<LocalStackOptions, 'staticDir' | 'basicAuth'> = {},
): Promise<LocalStack> {
  const { MYSQL_URL: _, ...inherited } = process.env;
  const config = parseGatewayConfig({
    GATEWAY_PORT: '0',
    CAT_SOURCE_PORT: '0',
    STACK_FILE: `${ROOT}test/fixtures/stack-small.yml`,
    SCALING_POLICY: 'off',
    ...env,
  });
  return startLocalStack({
    config,
    persistent: false,
    env: inherited,
    log: createLogger('silent'),
    onReplicaLog: (id, line) => logs.push(`${id} ${line}`),
    ...more,
  });
}
