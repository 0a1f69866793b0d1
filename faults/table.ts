/** One row of `npm run faults`: what the case expects and what it saw. */
export interface FaultRow {
  group: string;
  case: string;
  expected: string;
  observed: string;
  ok: string;
}

export const FAULTS_MARKER = 'faults-table';
export const FAULTS_COMMAND = 'npm run faults -- --readme';

const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

/** The README's faults table: case, expected and observed, as the last run saw them. */
export function faultsTable(rows: readonly FaultRow[]): string {
  return [
    '| Case | Expected | Observed |',
    '|---|---|---|',
    ...rows.map((r) => `| ${cell(`${r.group}: ${r.case}`)} | ${cell(r.expected)} | ${cell(r.observed)} |`),
  ].join('\n');
}

/** The case and expected columns of such a table, unescaped. */
export function tableCases(table: string): Array<{ case: string; expected: string }> {
  return table
    .split('\n')
    .slice(2)
    .map((line) => {
      const cells = line
        .slice(2, -2)
        .split(' | ')
        .map((c) => c.replaceAll('\\|', '|'));
      return { case: cells[0] ?? '', expected: cells[1] ?? '' };
    });
}
