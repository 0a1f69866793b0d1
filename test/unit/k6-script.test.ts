import { readFile } from 'node:fs/promises';
import { parse } from 'acorn';
import { describe, expect, it } from 'vitest';
import { parsePlan } from '../../contract/plan.ts';
import { bundleK6Script, K6_SCRIPT } from '../../loadgen/k6/build.ts';
import { bakePlan } from '../../loadgen/src/core/k6.ts';

/** Parses as a module of ES2017 at most: what k6 before v0.53 (its Babel loader) accepts. */
const es2017 = (source: string) => parse(source, { ecmaVersion: 2017, sourceType: 'module' });

describe('committed k6 script', () => {
  it('is the bundle of the current core and glue (npm run build:k6)', async () => {
    expect(await readFile(K6_SCRIPT, 'utf8')).toBe(await bundleK6Script());
  });

  it('exports a scenario function per target function, setup, options and handleSummary', async () => {
    const script = await readFile(K6_SCRIPT, 'utf8');
    for (const name of ['randstore', 'randshow', 'setup', 'handleSummary', 'options']) {
      expect(script).toMatch(new RegExp(`export\\s*\\{[^}]*\\b${name}\\b`));
    }
    expect(script).toMatch(/from "k6\/http"/);
    expect(script).not.toMatch(/from "\.\.?\//); // nothing left to resolve at k6 run time
    expect(script).toContain("'systembreaker_errors'".replaceAll("'", '"'));
  });

  it('keeps to ES2017, so every k6 a user has can load it, and so does the app’s export', async () => {
    const script = await readFile(K6_SCRIPT, 'utf8');
    expect(() => es2017(script)).not.toThrow();
    const exported = bakePlan(script, parsePlan({ rate: 30, profile: 'ramp', durationS: 120 }));
    expect(() => es2017(exported)).not.toThrow();
    // The check bites: object spread is ES2018.
    expect(() => es2017('const a = { ...b };')).toThrow(/Unexpected token/);
  });
});
