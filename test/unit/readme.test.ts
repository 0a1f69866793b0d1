import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { README, withConfigTables } from '../../scripts/docs-config.ts';

describe('README', () => {
  it('documents every configuration variable with its current default (npm run docs:config)', async () => {
    const readme = await readFile(README, 'utf8');
    expect(readme).toBe(withConfigTables(readme));
  });

  it('gives the two commands: npm start and npm test', async () => {
    const readme = await readFile(README, 'utf8');
    expect(readme).toContain('npm start');
    expect(readme).toContain('npm test');
  });
});
