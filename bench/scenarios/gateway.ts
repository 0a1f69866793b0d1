import { autocannonRun, type LoadResult } from '../autocannon.ts';
import { startBenchStack } from '../stack.ts';
import { round } from '../stats.ts';
import { startThinProxy } from '../thin-proxy.ts';

export interface GatewayRow {
  target: string;
  direct: LoadResult;
  /** Through the thinnest Node proxy there is (bench/thin-proxy.ts), to the same replica. */
  anchor: LoadResult;
  viaGateway: LoadResult;
  /** Requests/s through /function/… ÷ requests/s straight to the replica. */
  rpsRatio: number;
  /** The anchor's requests/s ÷ direct. */
  anchorRatio: number;
  /** Ours ÷ the anchor's: what routing, metrics and replica choice cost beyond the second hop. */
  overAnchor: number;
}

/**
 * The local gateway's cost: the same load straight to one replica, through the thin-proxy
 * anchor, and through /function/…, for a no-op path (the replica's health check) and a
 * DB-bound randshow. The gateway and the anchor run in this process; autocannon loads from a
 * worker thread, so neither shares its event loop with the load.
 */
export async function benchGateway(
  seconds: number,
  connections: number,
  env: NodeJS.ProcessEnv,
): Promise<GatewayRow[]> {
  const stack = await startBenchStack(env, 20);
  const replica = stack.gateway.sets.get('randshow')?.pick();
  if (!replica) throw new Error('no randshow replica');
  const anchor = await startThinProxy(replica.url);
  try {
    const targets = [
      ['no-op (replica health check)', '/_/health'],
      ['randshow random-id, json', '/?format=json&strategy=random-id'],
    ] as const;
    const rows: GatewayRow[] = [];
    const load = (url: string) => autocannonRun(url, connections, seconds, { inWorker: true });
    for (const [target, path] of targets) {
      const direct = await load(`${replica.url}${path}`);
      const viaAnchor = await load(`${anchor.url}${path}`);
      const viaGateway = await load(`${stack.gateway.url}/function/randshow${path}`);
      rows.push({
        target,
        direct,
        anchor: viaAnchor,
        viaGateway,
        rpsRatio: round(viaGateway.rps / direct.rps, 3),
        anchorRatio: round(viaAnchor.rps / direct.rps, 3),
        overAnchor: round(viaGateway.rps / viaAnchor.rps, 3),
      });
    }
    return rows;
  } finally {
    await anchor.close();
    await stack.stop();
  }
}
