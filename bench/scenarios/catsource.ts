import { startCatSource } from '../../catsource/server.ts';
import { autocannonRun, type LoadResult } from '../autocannon.ts';
import { round } from '../stats.ts';

export interface CatSourceBench {
  /** `GET /cat`: a cat of the pool drawn at start. */
  pooled: LoadResult;
  /** `GET /cat?width=…`: a size no request asked before, drawn for this one (what every request cost before the pool). */
  drawn: LoadResult;
  pooledOverDrawn: number;
  /** How long drawing the pool took at start. */
  startMs: number;
}

/** The local cat source: a cat from the pool drawn at start against one drawn for the request. */
export async function benchCatSource(seconds: number, connections: number): Promise<CatSourceBench> {
  const t = performance.now();
  const source = await startCatSource();
  const startMs = Math.round(performance.now() - t);
  try {
    const pooled = await autocannonRun(`${source.url}/cat`, connections, seconds);
    let width = 100;
    // Widths never asked before (the drawn-cat cache keys on them), in the pool's size range.
    const drawn = await autocannonRun(`${source.url}/cat`, connections, seconds, {
      path: () => {
        width = width >= 900 ? 100 : width + 1;
        return `/cat?width=${width}&height=${Math.round(width * 0.75)}&seed=${width % 48}`;
      },
    });
    return { pooled, drawn, pooledOverDrawn: round(pooled.rps / drawn.rps, 2), startMs };
  } finally {
    await source.close();
  }
}
