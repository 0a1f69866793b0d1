import type uPlot from 'uplot';
import type { AlignedData, Options } from 'uplot';
import type { RunNote, RunResults, SecondStats, SystemSample } from '../../../contract/results.ts';
import { Timeline } from './timeline.ts';

/** The charts of a run, live in the app and after it in the HTML report: one definition for both. */

export interface ChartSeries {
  label: string;
  stroke: string;
  dash?: number[];
  /** Polled series have a value every few seconds: join their points. */
  spanGaps?: boolean;
}

export interface ChartSpec {
  heading: string;
  unit: string;
  /** The timeline's series drawn, in the order of `series`. */
  keys: string[];
  series: ChartSeries[];
  /** Whether the story's scale events are marked on it. */
  marked?: boolean;
}

/** A moment of the story drawn on a chart: a dashed line and a short label. */
export interface ChartMark {
  /** Epoch seconds. */
  x: number;
  label: string;
}

/** The scale events of a run's story as marks ("randshow 1→5"), on the wall clock it ran at. */
export function marksOf(notes: readonly RunNote[], wallStart: number): ChartMark[] {
  return notes.flatMap((n) => {
    const change = /(\d+) → (\d+)/.exec(n.text);
    return n.kind === 'scale' && change
      ? [{ x: wallStart + n.t, label: `${n.fn} ${change[1]}→${change[2]}` }]
      : [];
  });
}

export const COLORS: Record<string, string> = {
  randstore: '#f4a259',
  randshow: '#6cb6ff',
  dbstats: '#9ccc65',
};
const ERROR_COLORS = ['#ff6b6b', '#ffb86b', '#f1fa8c', '#bd93f9', '#ff79c6', '#8be9fd', '#50fa7b'];
const colorOf = (fn: string) => COLORS[fn] ?? '#ccc';

/** One second of the engine's per-function stats, at `wallStart + t` (epoch seconds). */
export function recordSeconds(timeline: Timeline, stats: readonly SecondStats[], wallStart: number): void {
  for (const s of stats) {
    const at = wallStart + s.t;
    timeline.set(`dialled.${s.fn}`, at, s.dialled);
    timeline.set(`achieved.${s.fn}`, at, s.completed);
    if (s.completed > 0) {
      timeline.set(`p50.${s.fn}`, at, s.p50);
      timeline.set(`p95.${s.fn}`, at, s.p95);
      timeline.set(`p99.${s.fn}`, at, s.p99);
    }
    timeline.set('err.total', at, 0);
    for (const [code, n] of Object.entries(s.byCode)) timeline.add(`err.${code}`, at, n);
  }
}

/** What the replicas and the database looked like at `wallStart + sample.t`. */
export function recordSample(timeline: Timeline, sample: SystemSample, wallStart: number): void {
  const at = wallStart + sample.t;
  for (const [fn, f] of Object.entries(sample.functions ?? {})) {
    timeline.set(`replicas.${fn}`, at, f.replicas);
    timeline.set(`ready.${fn}`, at, f.ready);
    if (f.cpu !== undefined) timeline.set(`cpu.${fn}`, at, f.cpu);
  }
  const db = sample.db;
  if (!db) return;
  timeline.set('db.threads', at, db.threadsConnected);
  timeline.set('db.running', at, db.queriesRunning);
  timeline.set('db.max', at, db.maxConnections);
  timeline.set('db.rows', at, db.rows);
  timeline.set('db.mib', at, db.blobBytes / 1048576);
}

/** A whole run on one timeline, on the wall clock it ran at. */
export function timelineOf(results: RunResults): Timeline {
  const timeline = new Timeline(Number.POSITIVE_INFINITY);
  const wallStart = Date.parse(results.startedAt) / 1000;
  recordSeconds(timeline, results.seconds, wallStart);
  for (const sample of results.system ?? []) recordSample(timeline, sample, wallStart);
  return timeline;
}

/** Functions that have replicas on the timeline, in name order. */
export const sampledFunctions = (timeline: Timeline): string[] =>
  timeline.keys('replicas.').map((k) => k.slice('replicas.'.length));

/** Every chart, for the load's functions and the deployed ones (replicas, CPU). */
export function chartSpecs(
  timeline: Timeline,
  fns: readonly string[],
  deployed: readonly string[],
): ChartSpec[] {
  const errorKeys = timeline.keys('err.').filter((k) => k !== 'err.total');
  return [
    {
      heading: 'Requests/s: dialled (dashed) and achieved',
      unit: 'req/s',
      keys: fns.flatMap((f) => [`dialled.${f}`, `achieved.${f}`]),
      series: fns.flatMap((f) => [
        { label: `${f} dialled`, stroke: colorOf(f), dash: [4, 4] },
        { label: `${f} achieved`, stroke: colorOf(f) },
      ]),
    },
    {
      heading: 'Latency from intended send (p50, p95, p99)',
      unit: 'ms',
      keys: fns.flatMap((f) => [`p50.${f}`, `p95.${f}`, `p99.${f}`]),
      series: fns.flatMap((f) => [
        { label: `${f} p50`, stroke: colorOf(f) },
        { label: `${f} p95`, stroke: colorOf(f), dash: [6, 3] },
        { label: `${f} p99`, stroke: colorOf(f), dash: [2, 3] },
      ]),
    },
    {
      heading: 'Errors/s by code',
      unit: 'errors/s',
      keys: ['err.total', ...errorKeys],
      series: [
        { label: 'total', stroke: '#666' },
        ...errorKeys.map((k, i) => ({
          label: k.slice(4),
          stroke: ERROR_COLORS[i % ERROR_COLORS.length] as string,
        })),
      ],
    },
    ...systemSpecs(deployed),
  ];
}

function systemSpecs(deployed: readonly string[]): ChartSpec[] {
  return [
    {
      heading: 'Replicas (dashed: ready)',
      unit: 'replicas',
      marked: true,
      keys: deployed.flatMap((f) => [`replicas.${f}`, `ready.${f}`]),
      series: deployed.flatMap((f) => [
        { label: f, stroke: colorOf(f), spanGaps: true },
        { label: `${f} ready`, stroke: colorOf(f), dash: [4, 4], spanGaps: true },
      ]),
    },
    {
      heading: 'CPU per function (millicores, all replicas)',
      unit: 'millicores',
      keys: deployed.map((f) => `cpu.${f}`),
      series: deployed.map((f) => ({ label: f, stroke: colorOf(f), spanGaps: true })),
    },
    {
      heading: 'MySQL connections and queries running',
      unit: 'threads',
      marked: true,
      keys: ['db.threads', 'db.running', 'db.max'],
      series: [
        { label: 'Threads_connected', stroke: '#ff79c6', spanGaps: true },
        { label: 'queries running', stroke: '#f1fa8c', spanGaps: true },
        { label: 'max_connections', stroke: '#ff6b6b', dash: [6, 4], spanGaps: true },
      ],
    },
    {
      heading: 'Rows and MiB stored',
      unit: 'rows / MiB',
      keys: ['db.rows', 'db.mib'],
      series: [
        { label: 'rows', stroke: '#9ccc65', spanGaps: true },
        { label: 'MiB in LONGBLOBs', stroke: '#8be9fd', spanGaps: true },
      ],
    },
  ];
}

export const CHART_HEIGHT = 180;

/** Draws the marks the getter returns at each redraw, so new ones show with the next data. */
function marksPlugin(marks: () => readonly ChartMark[]): uPlot.Plugin {
  return {
    hooks: {
      draw: [
        (u: uPlot) => {
          const { ctx, bbox } = u;
          const dpr = globalThis.devicePixelRatio || 1;
          ctx.save();
          ctx.strokeStyle = '#bd93f9';
          ctx.fillStyle = '#bd93f9';
          ctx.font = `${10 * dpr}px sans-serif`;
          ctx.textAlign = 'left';
          ctx.setLineDash([3 * dpr, 3 * dpr]);
          marks().forEach((mark, i) => {
            const x = u.valToPos(mark.x, 'x', true);
            if (x < bbox.left || x > bbox.left + bbox.width) return;
            ctx.beginPath();
            ctx.moveTo(x, bbox.top);
            ctx.lineTo(x, bbox.top + bbox.height);
            ctx.stroke();
            ctx.fillText(mark.label, x + 3 * dpr, bbox.top + (10 + (i % 3) * 11) * dpr);
          });
          ctx.restore();
        },
      ],
    },
  };
}

/** uPlot's options for a chart over wall-clock seconds, with the story's marks where it has them. */
export function plotOptions(
  unit: string,
  series: readonly ChartSeries[],
  width: number,
  marks?: () => readonly ChartMark[],
): Options {
  return {
    ...(marks ? { plugins: [marksPlugin(marks)] } : {}),
    width: Math.max(width, 240),
    height: CHART_HEIGHT,
    legend: { live: false },
    scales: { x: { time: true } },
    axes: [
      { stroke: '#aaa', grid: { stroke: '#2a2d35' } },
      { stroke: '#aaa', grid: { stroke: '#2a2d35' }, label: unit, size: 56 },
    ],
    series: [
      {},
      ...series.map((s) => ({
        label: s.label,
        stroke: s.stroke,
        width: 1.5,
        spanGaps: s.spanGaps ?? false,
        ...(s.dash ? { dash: s.dash } : {}),
      })),
    ],
  };
}

/** How many values a chart's data draws (for tests and screen readers). */
export const pointsOf = (data: AlignedData): number =>
  data
    .slice(1)
    .reduce(
      (n, ys) => n + Array.from(ys as ArrayLike<number | null | undefined>).filter((v) => v != null).length,
      0,
    );
