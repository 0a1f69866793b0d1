import { autocannonRun, type LoadResult, medianRun } from '../autocannon.ts';
import { type NoopKind, startNoopServer } from '../noop-server.ts';
import { median, round } from '../stats.ts';

export interface ServerOverhead {
  connections: number;
  seconds: number;
  /** Each server's median run of `rounds`. */
  plain: LoadResult;
  functionServer: LoadResult;
  express: LoadResult;
  rounds: number;
  /** Our function server's requests/s ÷ plain node:http's, in each round (side by side). */
  roundRatios: number[];
  /** The median of roundRatios. */
  oursOverPlain: number;
  /** …÷ the Express style of the official OpenFaaS node template. */
  oursOverExpress: number;
}

/**
 * A no-op handler three ways, each in its own process, the same autocannon load on each, in
 * `rounds` interleaved rounds (plain, ours, Express, plain, …): a machine that slows down
 * part way through slows every server alike, and each round gives a ratio of its own.
 */
export async function benchServerOverhead(
  seconds: number,
  connections: number,
  rounds = 3,
): Promise<ServerOverhead> {
  const kinds: NoopKind[] = ['plain', 'function-server', 'express'];
  const servers = await Promise.all(kinds.map((k) => startNoopServer(k)));
  const runs = new Map<NoopKind, LoadResult[]>(kinds.map((k) => [k, []]));
  try {
    for (const server of servers) await autocannonRun(`${server.url}/`, connections, 1); // warm-up
    for (let i = 0; i < rounds; i++)
      for (const [j, server] of servers.entries())
        runs.get(kinds[j] as NoopKind)?.push(await autocannonRun(`${server.url}/`, connections, seconds));
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
  const [plain, ours, express] = kinds.map((k) => runs.get(k) as LoadResult[]) as [
    LoadResult[],
    LoadResult[],
    LoadResult[],
  ];
  const roundRatios = ours.map((o, i) => round(o.rps / (plain[i] as LoadResult).rps, 3));
  return {
    connections,
    seconds,
    plain: medianRun(plain),
    functionServer: medianRun(ours),
    express: medianRun(express),
    rounds,
    roundRatios,
    oursOverPlain: median(roundRatios),
    oursOverExpress: round(medianRun(ours).rps / medianRun(express).rps, 3),
  };
}
