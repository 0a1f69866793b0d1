import { describe, expect, it } from 'vitest';
import { createLogger, rateLimitedWarn } from '../../functions/lib/log.ts';

describe('a background loop’s failures', () => {
  it('are logged at once, then at most once an interval, saying how many were not', () => {
    const lines: Array<Record<string, unknown>> = [];
    const log = createLogger('info', {}, (line) => lines.push(JSON.parse(line)));
    let now = 0;
    const failed = rateLimitedWarn(log, 'scrape failed', 60_000, () => now);
    failed({ replica: 'a' });
    for (now = 1000; now < 60_000; now += 1000) failed({ replica: 'a' });
    failed({ replica: 'b' });
    expect(lines.map((l) => [l.level, l.msg, l.replica, l.alsoFailedSinceLastLine])).toEqual([
      ['warn', 'scrape failed', 'a', undefined],
      ['warn', 'scrape failed', 'b', 59],
    ]);
  });
});
