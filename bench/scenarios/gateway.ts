import { autocannonRun, type LoadResult, medianRun } from '../autocannon.ts';
import { startBenchStack } from '../stack.ts';
import { median, round } from '../stats.ts';
import { startThinProxy } from '../thin-proxy.ts';

export interface GatewayRow {
  target: string;
  /** Each side's median run of `rounds`. */
  direct: LoadResult;
  /** Through the thinnest Node proxy there is (bench/thin-proxy.ts), to the same replica. */
  anchor: LoadResult;
  viaGateway: LoadResult;
  rounds: number;
  /** Requests/s through /function/… ÷ requests/s straight to the replica (median of the rounds' ratios). */
  rpsRatio: number;
  /** The anchor's requests/s ÷ direct (median of the rounds' ratios). */
  anchorRatio: number;
  /** Ours ÷ the anchor's: what routing, metrics and replica choice cost beyond the second hop. */
  overAnchor: number;
  /** overAnchor in each round. */
  overAnchorRounds: number[];
}

/**
 * The local gateway's cost: the same load straight to one replica, through the thin-proxy
 * anchor, and through /function/…, for a no-op path (the replica's health check) and a
 * DB-bound randshow, in `rounds` interleaved rounds (direct, anchor, gateway, direct, …) so a
 * machine that slows part way through slows every side alike; each ratio is the median of the
 * rounds' own. The gateway and the anchor run in this process; autocannon loads from a worker
 * thread, so neither shares its event loop with the load.
 */
export async function benchGateway(
  seconds: number,
  connections: number,
  env: NodeJS.ProcessEnv,
  rounds = 3,
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
    const load = (url: string, s = seconds) => autocannonRun(url, connections, s, { inWorker: true });
    for (const [target, path] of targets) {
      const urls = [
        `${replica.url}${path}`,
        `${anchor.url}${path}`,
        `${stack.gateway.url}/function/randshow${path}`,
      ];
      for (const url of urls) await load(url, 1); // warm-up
      const runs: [LoadResult[], LoadResult[], LoadResult[]] = [[], [], []];
      for (let i = 0; i < rounds; i++) for (const [j, url] of urls.entries()) runs[j]?.push(await load(url));
      const [direct, viaAnchor, viaGateway] = runs;
      const ratios = (a: LoadResult[], b: LoadResult[]) =>
        a.map((x, i) => round(x.rps / (b[i] as LoadResult).rps, 3));
      const overAnchorRounds = ratios(viaGateway, viaAnchor);
      rows.push({
        target,
        direct: medianRun(direct),
        anchor: medianRun(viaAnchor),
        viaGateway: medianRun(viaGateway),
        rounds,
        rpsRatio: median(ratios(viaGateway, direct)),
        anchorRatio: median(ratios(viaAnchor, direct)),
        overAnchor: median(overAnchorRounds),
        overAnchorRounds,
      });
    }
    return rows;
  } finally {
    await anchor.close();
    await stack.stop();
  }
}
