import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { bundleK6Script, K6_SCRIPT } from '../../loadgen/k6/build.ts';

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
});
