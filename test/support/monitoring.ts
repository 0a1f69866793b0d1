import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { ROOT } from './process.ts';

/** Words in the PromQL of this project that are functions, keywords or label names, not metrics. */
const PROMQL_WORDS = new Set([
  'sum',
  'rate',
  'by',
  'BY',
  'max',
  'histogram_quantile',
  'increase',
  'le',
  'function_name',
  'code',
  'state',
  'query',
  'error_code',
  'fn',
  'scenario',
]);

/** Every PromQL expression of the Grafana dashboard and the alert rules. */
export async function queries(): Promise<string[]> {
  const dashboard = JSON.parse(await readFile(path.join(ROOT, 'deploy/grafana/systembreaker.json'), 'utf8'));
  const rules = parse(await readFile(path.join(ROOT, 'deploy/prometheus/alert.rules.yml'), 'utf8'));
  const exprs: string[] = [
    ...dashboard.panels.flatMap((p: { targets?: Array<{ expr: string }> }) =>
      (p.targets ?? []).map((t) => t.expr),
    ),
    ...rules.groups.flatMap((g: { rules: Array<{ expr: string }> }) => g.rules.map((r) => r.expr)),
  ];
  return exprs;
}

/** Every metric name the Grafana dashboard and the alert rules query. */
export async function queriedMetrics(): Promise<string[]> {
  const words = (await queries()).flatMap((e) =>
    // Selectors, ranges and the label lists of by/without are not metric names.
    [
      ...e.replace(/\{[^}]*\}|\[[^\]]*\]|\b(?:by|without)\s*\([^)]*\)/g, '').matchAll(/[a-z_][a-z0-9_]*/gi),
    ].map((m) => m[0]),
  );
  return [...new Set(words.filter((w) => !PROMQL_WORDS.has(w)))];
}

/**
 * The family a histogram's series belongs to (its name without _bucket/_sum/_count): the name
 * its metadata has. Look a name up as it is first: `gateway_service_count` is a gauge.
 */
export const familyOf = (metric: string) => metric.replace(/_(bucket|sum|count)$/, '');
