import { describe, expect, it } from 'vitest';
import { Timeline } from '../../loadgen/src/app/timeline.ts';

describe('chart timeline', () => {
  it('keeps series aligned on one x axis of whole seconds, gaps as null', () => {
    const t = new Timeline(10);
    t.set('a', 100.4, 1);
    t.set('b', 102.9, 2);
    expect(t.data(['a', 'b'])).toEqual([
      [99, 100, 101, 102],
      [null, 1, null, null],
      [null, null, null, 2],
    ]);
  });

  it('keeps only the last span of seconds', () => {
    const t = new Timeline(3);
    for (let s = 0; s < 10; s++) t.set('a', s, s);
    expect(t.data(['a'])).toEqual([
      [7, 8, 9],
      [7, 8, 9],
    ]);
  });

  it('adds counts of the same second together', () => {
    const t = new Timeline(5);
    t.add('err.X', 5, 2);
    t.add('err.X', 5, 3);
    expect(t.data(['err.X'])[1]?.at(-1)).toBe(5);
    expect(t.keys('err.')).toEqual(['err.X']);
  });
});
