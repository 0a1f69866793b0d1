import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../contract/errors.ts';
import {
  CONNECTION_MODES,
  FUNCTION_NAMES,
  SHOW_FORMATS,
  STORAGE_ENCODINGS,
  STRATEGIES,
} from '../../contract/functions.ts';
import { PROFILES } from '../../contract/plan.ts';
import { ENGINES, STATUS_CLASSES } from '../../contract/results.ts';

/** The lists the contract declares; declaring one of them again anywhere else is the drift it exists to stop. */
const VOCABULARIES: Record<string, readonly string[]> = {
  'function names': FUNCTION_NAMES,
  strategies: STRATEGIES,
  'randshow formats': SHOW_FORMATS,
  'storage encodings': STORAGE_ENCODINGS,
  'connection modes': CONNECTION_MODES,
  profiles: PROFILES,
  'error codes': ERROR_CODES,
  'status classes': STATUS_CLASSES,
  engines: ENGINES,
};

/** Array literals of two or more strings that all come from one vocabulary: a list declared again. */
function redeclaredLists(source: string): string[] {
  const found: string[] = [];
  for (const m of source.matchAll(/\[([^[\]]*)\]/g)) {
    const items = (m[1] as string)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (items.length < 2 || !items.every((s) => /^(['"])[^'"]*\1$/.test(s))) continue;
    const words = items.map((s) => s.slice(1, -1));
    for (const [name, list] of Object.entries(VOCABULARIES))
      if (words.every((w) => list.includes(w))) found.push(`${name}: [${words.join(', ')}]`);
  }
  return found;
}

describe('one vocabulary', () => {
  it('finds a list of the contract declared again (the check can fail)', () => {
    expect(redeclaredLists("const S = ['order-by-rand', 'random-id'] as const;")).toEqual([
      'strategies: [order-by-rand, random-id]',
    ]);
    expect(redeclaredLists("for (const f of ['randstore', 'randshow', 'dbstats'])")).toEqual([
      'function names: [randstore, randshow, dbstats]',
    ]);
    expect(redeclaredLists("const columns = ['t', 'fn', '2xx'];")).toEqual([]);
  });

  it('declares each list once, in contract/: no source file outside it declares one again', () => {
    const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.ts'], {
      encoding: 'utf8',
    })
      .split('\n')
      .filter((f) => f && !f.startsWith('contract/') && !f.startsWith('test/'));
    expect(files.length).toBeGreaterThan(50);
    const offences = files.flatMap((f) => redeclaredLists(readFileSync(f, 'utf8')).map((o) => `${f}: ${o}`));
    expect(offences).toEqual([]);
  });
});
