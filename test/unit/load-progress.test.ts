import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../contract/engine.ts';
import type { SecondStats } from '../../contract/results.ts';
import { progressPrinter } from '../../loadgen/src/node/progress.ts';

const second = (fn: string, t: number, completed: number, dialled: number, failed = 0): SecondStats => ({
  fn,
  t,
  dialled,
  sent: completed,
  completed,
  dropped: 0,
  byClass: { '2xx': completed - failed, '3xx': 0, '4xx': 0, '5xx': failed, net: 0 },
  byCode: failed ? { NO_REPLICAS: failed } : {},
  p50: 10,
  p90: 20,
  p95: 25,
  p99: 30,
  max: 40,
});

const event = (stats: SecondStats[], inFlight: number) =>
  ({ type: 'second', stats, inFlight, summary: [] }) as unknown as EngineEvent;

describe('npm run load progress', () => {
  it('prints one line per second, and says when the plan has ended but answers still arrive', () => {
    const lines: string[] = [];
    const print = progressPrinter(2, (l) => {
      lines.push(l);
    });
    print(event([second('randstore', 0, 5, 5), second('randshow', 0, 15, 15)], 3));
    print(event([second('randstore', 1, 5, 5, 1), second('randshow', 1, 15, 15)], 4));
    // After the end the engine reports the late seconds together.
    print(event([second('randshow', 2, 3, 0), second('randstore', 3, 1, 0), second('randshow', 3, 1, 0)], 0));
    expect(lines).toEqual([
      't=1s  dialled 20.0/s  achieved 20/s  in-flight 3  p99 so far 30.0 ms  errors 0  dropped 0\n',
      't=2s  dialled 20.0/s  achieved 20/s  in-flight 4  p99 so far 30.0 ms  errors 1  dropped 0\n',
      't=3s  plan ended, answers still coming in:  achieved 3/s  in-flight 0  p99 so far 30.0 ms  errors 1  dropped 0\n',
      't=4s  plan ended, answers still coming in:  achieved 2/s  in-flight 0  p99 so far 30.0 ms  errors 1  dropped 0\n',
    ]);
  });
});
