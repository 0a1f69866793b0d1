import { autocannonRun, type LoadResult } from '../autocannon.ts';
import { startBenchStack } from '../stack.ts';
import { round } from '../stats.ts';

export interface GatewayRow {
  target: string;
  direct: LoadResult;
  viaGateway: LoadResult;
  /** Requests/s through /function/… ÷ requests/s straight to the replica. */
  rpsRatio: number;
}

/**
 * The local gateway's cost: the same load straight to one replica and through
 * /function/…, for a no-op path (the replica's health check) and a DB-bound randshow.
 */
export async function benchGateway(
  seconds: number,
  connections: number,
  env: NodeJS.ProcessEnv,
): Promise<GatewayRow[]> {
  const stack = await startBenchStack(env, 20);
  try {
    const replica = stack.gateway.sets.get('randshow')?.pick();
    if (!replica) throw new Error('no randshow replica');
    const targets = [
      ['no-op (replica health check)', '/_/health'],
      ['randshow random-id, json', '/?format=json&strategy=random-id'],
    ] as const;
    const rows: GatewayRow[] = [];
    for (const [target, path] of targets) {
      const direct = await autocannonRun(`${replica.url}${path}`, connections, seconds);
      const viaGateway = await autocannonRun(
        `${stack.gateway.url}/function/randshow${path}`,
        connections,
        seconds,
      );
      rows.push({ target, direct, viaGateway, rpsRatio: round(viaGateway.rps / direct.rps, 3) });
    }
    return rows;
  } finally {
    await stack.stop();
  }
}
