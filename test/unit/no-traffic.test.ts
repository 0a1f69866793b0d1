import { describe, expect, it } from 'vitest';
import { checkPlan, parsePlan, parsePlanChange } from '../../contract/plan.ts';
import { GatewayError } from '../../gateway/errors.ts';
import { LiveLoad } from '../../gateway/live-load.ts';
import { bakePlan, planFromEnv } from '../../loadgen/src/core/k6.ts';
import { runToEnd } from '../support/process.ts';

const NO_RATE = 'rate must be above 0 requests/s: a plan with no traffic sends nothing';
const NO_WEIGHT = 'ratio must give some weight to randstore or randshow: all weights are 0';

describe('a plan that would send nothing', () => {
  it('is refused to run, with the reason, whatever its profile', () => {
    for (const profile of ['constant', 'ramp', 'spike', 'seed-demo'] as const)
      expect(() => parsePlan({ rate: 0, profile })).toThrow(NO_RATE);
    expect(() => parsePlan({ ratio: { randstore: 0, randshow: 0 } })).toThrow(NO_WEIGHT);
  });

  it('may still be edited, and a running plan may be dialled to 0 to pause it', () => {
    expect(checkPlan({ rate: 0 }).rate).toBe(0);
    expect(parsePlanChange({ rate: 0, ratio: { randstore: 0, randshow: 0 } })).toEqual({
      rate: 0,
      ratio: { randstore: 0, randshow: 0 },
    });
  });

  it('is refused by k6’s -e variables and by the app’s export as a k6 script', () => {
    expect(() => planFromEnv({ RATE: '0' })).toThrow(NO_RATE);
    expect(() => planFromEnv({ RATIO: '0:0' })).toThrow(NO_WEIGHT);
    expect(() => bakePlan('', checkPlan({ rate: 0 }))).toThrow(NO_RATE);
  });

  it('is refused by the live API with 400 BAD_REQUEST before any engine starts', () => {
    const live = new LiveLoad(() => 'http://127.0.0.1:1');
    expect(() => live.start({ rate: 0 })).toThrow(GatewayError);
    expect(() => live.start({ ratio: { randstore: 0, randshow: 0 } })).toThrow(
      expect.objectContaining({ code: 'BAD_REQUEST', status: 400, message: NO_WEIGHT }),
    );
    expect(live.running).toBe(false);
  });

  it('is refused by npm run load, which exits 2 and says why', async () => {
    const { code, output } = await runToEnd(
      ['--import', 'tsx', 'loadgen/src/node/cli.ts', '--rate', '0'],
      {},
    );
    expect(code).toBe(2);
    expect(output).toContain(NO_RATE);
  });
});
