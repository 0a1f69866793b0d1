import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CASES } from '../../faults/cases.ts';
import { createFaultContext, type FaultContext } from '../../faults/context.ts';
import { ROOT } from '../support/process.ts';

let ctx: FaultContext;
beforeAll(async () => {
  ctx = await createFaultContext(`${ROOT}test/fixtures/stack-small.yml`);
}, 120_000);
afterAll(() => ctx?.close());

describe('faults and abuse (the cases of npm run faults)', () => {
  // In order: the outage and exhaustion cases come before the integrity check of every row.
  it.each(CASES.map((c) => [`${c.group}: ${c.name}`, c] as const))('%s', async (_name, c) => {
    const outcome = await c.run(ctx);
    expect(outcome.pass, `expected ${c.expected}; observed ${outcome.observed}`).toBe(true);
  });
});
