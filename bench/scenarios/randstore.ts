import sharp from 'sharp';
import { drawPool } from '../../catsource/cats.ts';
import { checkImage } from '../../functions/lib/image.ts';
import { autocannonRun, type LoadResult } from '../autocannon.ts';
import { startBenchStack } from '../stack.ts';
import { round } from '../stats.ts';

export interface RandstoreBench {
  /** Cats checked per second, four at a time, over the local cat source's pool. */
  check: { thumbnailPerS: number; statsPerS: number; ratio: number };
  /** POST to one replica, and through the gateway, with the local cat source. */
  direct: LoadResult;
  viaGateway: LoadResult;
}

const LIMITS = { maxBytes: 8 * 1024 * 1024, maxDimension: 4096, oversize: 'reject' } as const;

/** The check randstore made before: the header, then stats() over every pixel. The anchor. */
async function statsCheck(bytes: Buffer): Promise<void> {
  await sharp(bytes).metadata();
  await sharp(bytes, { failOn: 'truncated', animated: false }).stats();
}

async function perSecond(cats: Buffer[], budgetMs: number, check: (b: Buffer) => Promise<unknown>) {
  let done = 0;
  const until = performance.now() + budgetMs;
  const t = performance.now();
  await Promise.all(
    [0, 1, 2, 3].map(async (k) => {
      for (let i = k; performance.now() < until; i = (i + 4) % cats.length) {
        await check(cats[i] as Buffer);
        done++;
      }
    }),
  );
  return Math.round(done / ((performance.now() - t) / 1000));
}

/** randstore's image check against the one it replaced, then randstore end to end on one replica. */
export async function benchRandstore(
  seconds: number,
  connections: number,
  budgetMs: number,
  env: NodeJS.ProcessEnv,
): Promise<RandstoreBench> {
  const cats = (await drawPool()).map((c) => c.bytes);
  const statsPerS = await perSecond(cats, budgetMs, statsCheck);
  const thumbnailPerS = await perSecond(cats, budgetMs, (b) => checkImage(b, LIMITS));
  const stack = await startBenchStack(env, 5);
  try {
    const replica = stack.gateway.sets.get('randstore')?.pick();
    if (!replica) throw new Error('no randstore replica');
    const direct = await autocannonRun(`${replica.url}/`, connections, seconds, { method: 'POST' });
    const viaGateway = await autocannonRun(`${stack.gateway.url}/function/randstore`, connections, seconds, {
      method: 'POST',
    });
    return {
      check: { thumbnailPerS, statsPerS, ratio: round(thumbnailPerS / statsPerS, 2) },
      direct,
      viaGateway,
    };
  } finally {
    await stack.stop();
  }
}
