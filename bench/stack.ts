import { createLogger } from '../functions/lib/log.ts';
import { parseGatewayConfig } from '../gateway/config.ts';
import { type LocalStack, startLocalStack } from '../gateway/local-stack.ts';

/** A throwaway local stack with fixed replicas (no autoscaling) and `cats` stored cats. */
export async function startBenchStack(env: NodeJS.ProcessEnv, cats: number): Promise<LocalStack> {
  const stack = await startLocalStack({
    config: parseGatewayConfig({ GATEWAY_PORT: '0', CAT_SOURCE_PORT: '0', SCALING_POLICY: 'off' }),
    persistent: false,
    env,
    log: createLogger('silent'),
    replicaEnv: { LOG_LEVEL: 'warn' },
  });
  for (let i = 0; i < cats; i++) {
    await (await fetch(`${stack.gateway.url}/function/randstore`, { method: 'POST' })).arrayBuffer();
  }
  return stack;
}
