import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { CASES } from '../../faults/cases.ts';
import { FAULTS_MARKER, tableCases } from '../../faults/table.ts';
import { README, sectionOf, withConfigTables } from '../../scripts/docs-config.ts';

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

describe('README faults table', () => {
  it('lists exactly the fault suite’s cases, in order, with what each expects (npm run faults -- --readme)', async () => {
    const readme = await readFile(README, 'utf8');
    expect(tableCases(sectionOf(readme, FAULTS_MARKER))).toEqual(
      CASES.map((c) => ({ case: `${c.group}: ${c.name}`, expected: c.expected })),
    );
  });
});
