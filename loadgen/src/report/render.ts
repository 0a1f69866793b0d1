import { type FunctionSummary, type RunResults, STATUS_CLASSES } from '../../../contract/results.ts';
import { escapeHtml } from '../../../functions/randshow/page.ts';
import { peaksOf } from '../core/summary.ts';

/** What a report inlines so that it needs no network: uPlot's stylesheet and the chart script. */
export interface ReportAssets {
  /** The report page's script (loadgen/src/report/page.ts with uPlot, bundled). */
  script: string;
  /** uPlot's stylesheet. */
  css: string;
}

/** The id of the inline JSON element the page's script reads the run from. */
export const RESULTS_ELEMENT_ID = 'results';

const STYLE = `
  body { font: 14px/1.4 system-ui, sans-serif; background: #0f1117; color: #e6e6e6; margin: 0; padding: 1rem 1.5rem; }
  h1 { font-size: 1.4rem; margin: 0 0 0.2rem; } h1 span { color: #ff6b6b; }
  h2 { font-size: 1.05rem; margin: 1.2rem 0 0.4rem; }
  .meta { color: #999; margin: 0; }
  table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
  th, td { padding: 0.2rem 0.6rem; border-bottom: 1px solid #242833; text-align: right; }
  th:first-child, td:first-child { text-align: left; }
  #charts { display: grid; gap: 0.8rem; grid-template-columns: repeat(auto-fit, minmax(min(100%, 560px), 1fr)); margin-top: 0.8rem; }
  figure { margin: 0; background: #151821; border: 1px solid #242833; border-radius: 8px; padding: 0.5rem; }
  figcaption { font-weight: 600; margin-bottom: 0.3rem; }
  figcaption small { font-weight: normal; color: #999; }
  .u-legend { font-size: 0.8rem; }
  #notes { list-style: none; padding: 0; margin: 0; font-size: 0.9rem; }
  #notes .t { display: inline-block; min-width: 5.5em; color: #999; font-variant-numeric: tabular-nums; }
  #notes [data-kind="scale"] { color: #6cb6ff; } #notes [data-kind="errors"] { color: #ff6b6b; }
`;

/** A count, a latency (ms, one decimal) and a rate (two), as the report prints them. */
export const formatCount = (n: number) => String(Math.round(n));
export const formatMs = (n: number) => n.toFixed(1);
export const formatRate = (n: number) => n.toFixed(2);

const errorsOf = (s: FunctionSummary) =>
  Object.entries(s.byCode)
    .sort(([, a], [, b]) => b - a)
    .map(([code, n]) => `${code} ${n}`)
    .join(', ') || '—';

function summaryTable(results: RunResults): string {
  const head = [
    'function',
    'sent',
    'completed',
    'dropped',
    'rate/s',
    'p50 ms',
    'p90 ms',
    'p95 ms',
    'p99 ms',
    'max ms',
    ...STATUS_CLASSES,
    'errors by code',
  ];
  const rows = results.summary.map((s) => {
    const cells: Array<[string, string]> = [
      ['sent', formatCount(s.sent)],
      ['completed', formatCount(s.completed)],
      ['dropped', formatCount(s.dropped)],
      ['rate', formatRate(s.rate)],
      ['p50', formatMs(s.p50)],
      ['p90', formatMs(s.p90)],
      ['p95', formatMs(s.p95)],
      ['p99', formatMs(s.p99)],
      ['max', formatMs(s.max)],
      ...STATUS_CLASSES.map((c): [string, string] => [`c${c}`, formatCount(s.byClass[c])]),
      ['errors', escapeHtml(errorsOf(s))],
    ];
    const tds = cells.map(([cls, text]) => `<td class="${cls}">${text}</td>`).join('');
    return `<tr data-fn="${escapeHtml(s.fn)}"><td>${escapeHtml(s.fn)}</td>${tds}</tr>`;
  });
  return `<table id="summary"><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** How long the run's load went, in whole seconds. */
const lastSecond = (results: RunResults) => results.seconds.reduce((t, s) => Math.max(t, s.t), 0);

function planTable(results: RunResults): string {
  const { plan } = results;
  const ratio = Object.entries(plan.ratio)
    .map(([fn, w]) => `${fn} ${w}`)
    .join(' : ');
  const rows: Array<[string, string]> = [
    ['rate', `${plan.rate} requests/s`],
    ['ratio', ratio],
    ['randshow strategy', plan.strategy],
    ['profile', plan.profile],
    [
      'duration',
      plan.profile === 'seed-demo'
        ? `the profile's own, from the alert rule: ${lastSecond(results)} s`
        : plan.durationS === 0
          ? 'until stopped'
          : `${plan.durationS} s`,
    ],
  ];
  return `<table id="plan"><tbody>${rows.map(([k, v]) => `<tr><th>${k}</th><td data-field="${k}">${escapeHtml(v)}</td></tr>`).join('')}</tbody></table>`;
}

/** The peaks a reader looks for first: replicas and CPU per function, connections against the limit. */
function peaksTable(results: RunResults): string {
  if (!results.system?.length)
    return '<p class="meta" id="peaks">The engine did not record replicas or the database in this run.</p>';
  const peaks = peaksOf(results);
  const rows = Object.entries(peaks.functions).map(
    ([fn, p]) =>
      `<tr data-fn="${escapeHtml(fn)}"><td>${escapeHtml(fn)}</td><td class="replicas">${p.replicas}</td><td class="cpu">${p.cpu ?? '—'}</td></tr>`,
  );
  const { db } = peaks;
  const dbLine = db
    ? `<p class="meta" id="db-peak">MySQL: at most <b>${db.threadsConnected}</b> of ${db.maxConnections} connections, <b>${peaks.queriesRunning}</b> queries running at once; ${formatCount(results.system.findLast((s) => s.db)?.db?.rows ?? 0)} rows stored at the end.</p>`
    : '';
  return `<table id="peaks"><thead><tr><th>function</th><th>peak replicas</th><th>peak CPU (millicores)</th></tr></thead><tbody>${rows.join('')}</tbody></table>${dbLine}`;
}

/** The run's story, where it was told (npm run demo). */
function notesList(results: RunResults): string {
  if (!results.notes?.length) return '';
  const items = results.notes.map(
    (n) =>
      `<li data-kind="${n.kind}"><span class="t">t=${Math.round(n.t)} s</span> ${escapeHtml(n.text)}</li>`,
  );
  return `<h2>What happened</h2><ol id="notes">${items.join('')}</ol>`;
}

/** JSON that cannot end the script element it sits in. */
const inlineJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');
/** Script text that cannot end its element early. */
const inlineScript = (text: string) => text.replace(/<\/(script)/gi, '<\\/$1');

/**
 * One self-contained HTML file for a run: the plan, the per-function table, the peaks and
 * the charts, with everything inlined; its Content-Security-Policy forbids every request.
 */
export function renderReport(results: RunResults, assets: ReportAssets): string {
  const lastT = lastSecond(results);
  const title = `SystemBreaker run, ${results.startedAt}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(title)}</title>
<style>${assets.css.replace(/<\//g, '<\\/')}${STYLE}</style>
</head>
<body>
<h1>System<span>Breaker</span> run</h1>
<p class="meta">Started ${escapeHtml(results.startedAt)} · ${lastT} s · ${escapeHtml(results.engine)} engine · target ${escapeHtml(results.target)}</p>
<h2>Plan</h2>
${planTable(results)}
<h2>Per function</h2>
${summaryTable(results)}
<h2>Replicas and database</h2>
${peaksTable(results)}
${notesList(results)}
<div id="charts"></div>
<noscript><p class="meta">The charts need JavaScript; the tables above hold the run's numbers.</p></noscript>
<script type="application/json" id="${RESULTS_ELEMENT_ID}">${inlineJson(results)}</script>
<script>${inlineScript(assets.script)}</script>
</body>
</html>
`;
}
