import { processUsage } from '../../gateway/usage.ts';
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
  /**
   * CPU µs per call (median of the rounds) of the proxying thread, the anchor's and the
   * gateway's (both this process's main thread), and of the replica behind each: a steadier
   * reading than requests/s on a machine the load tool shares.
   */
  cpuUsPerCall: { anchor: number; gateway: number; replicaViaAnchor: number; replicaViaGateway: number };
}

/** CPU seconds of this process's main thread and of the replica, for one run's share. */
async function cpuNow(replicaPid: number | undefined): Promise<[number, number]> {
  const [main, replica] = await Promise.all([
    processUsage(process.pid, process.pid),
    replicaPid === undefined ? undefined : processUsage(replicaPid),
  ]);
  return [main?.cpuSeconds ?? Number.NaN, replica?.cpuSeconds ?? Number.NaN];
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
      // [side][round] → [main thread, replica] µs per call
      const cpu: [number, number][][] = [[], [], []];
      for (let i = 0; i < rounds; i++)
        for (const [j, url] of urls.entries()) {
          const before = await cpuNow(replica.pid);
          const run = await load(url);
          const after = await cpuNow(replica.pid);
          const calls = run.rps * seconds;
          runs[j]?.push(run);
          cpu[j]?.push([((after[0] - before[0]) * 1e6) / calls, ((after[1] - before[1]) * 1e6) / calls]);
        }
      const [direct, viaAnchor, viaGateway] = runs;
      const us = (side: number, k: 0 | 1) => round(median((cpu[side] ?? []).map((c) => c[k])), 1);
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
        cpuUsPerCall: {
          anchor: us(1, 0),
          gateway: us(2, 0),
          replicaViaAnchor: us(1, 1),
          replicaViaGateway: us(2, 1),
        },
      });
    }
    return rows;
  } finally {
    await anchor.close();
    await stack.stop();
  }
}
