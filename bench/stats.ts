/** Exact percentile of a sample (nearest rank). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] as number;
}

/** Runs `step` until `budgetMs` passes or `maxRuns` is reached; returns the sorted durations in ms. */
export async function sample(
  step: () => Promise<unknown>,
  budgetMs: number,
  maxRuns: number,
): Promise<number[]> {
  const times: number[] = [];
  const end = performance.now() + budgetMs;
  while (times.length < maxRuns && (times.length < 3 || performance.now() < end)) {
    const t = performance.now();
    await step();
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b);
}

export const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

/** The middle value (the upper one of an even count). */
export const median = (xs: readonly number[]) =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
