import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScaleEvent } from '../../contract/openfaas.ts';
import type { LocalStack } from '../../gateway/local-stack.ts';
import { startTestStack } from '../support/stack.ts';

let stack: LocalStack;

beforeAll(async () => {
  // The CE rule with windows short enough for a test: > 5 calls/s over 2 s, held 1 s.
  stack = await startTestStack({
    SCALING_POLICY: 'openfaas-ce',
    ALERT_WINDOW_S: '2',
    ALERT_FOR_S: '1',
    ALERT_REPEAT_S: '2',
    SCALER_TICK_MS: '250',
  });
  await fetch(`${stack.gateway.url}/function/randstore`, { method: 'POST' }).then((r) => r.arrayBuffer());
});
afterAll(() => stack?.stop());

const desired = () => stack.gateway.sets.get('randshow')?.desired ?? 0;

describe('autoscaling through the local gateway', () => {
  it('scales a function up during a bounded burst and back to min in the quiet after it', async () => {
    const url = `${stack.gateway.url}/function/randshow?format=json&strategy=random-id`;
    let peak = desired();
    // 25 calls/s for at most 8 s (200 calls), stopping early once the scale-up is seen.
    for (let i = 0; i < 200 && peak < 3; i++) {
      const tick = Date.now();
      void fetch(url).then((r) => r.arrayBuffer());
      peak = Math.max(peak, desired());
      await new Promise((r) => setTimeout(r, Math.max(0, 40 - (Date.now() - tick))));
    }
    expect(peak).toBeGreaterThanOrEqual(3);
    await expect.poll(desired, { timeout: 15_000, interval: 250 }).toBe(1);

    const events = (await (await fetch(`${stack.gateway.url}/system/scale-events`)).json()) as ScaleEvent[];
    const randshow = events.filter((e) => e.function === 'randshow');
    expect(randshow[0]).toMatchObject({
      from: 1,
      to: 3,
      reason: expect.stringContaining('APIHighInvocationRate'),
    });
    expect(randshow.at(-1)).toMatchObject({ to: 1, reason: 'alert resolved: back to min' });
    await expect.poll(() => stack.gateway.sets.get('randshow')?.live.length, { timeout: 15_000 }).toBe(1);
  });
});
