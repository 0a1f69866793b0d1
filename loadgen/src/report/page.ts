import uPlot from 'uplot';
import type { RunResults } from '../../../contract/results.ts';
import { chartSpecs, marksOf, plotOptions, pointsOf, sampledFunctions, timelineOf } from '../app/charts.ts';
import { RESULTS_ELEMENT_ID } from './render.ts';

/**
 * The HTML report's script: draws the run's charts, the same ones the app draws live, from the
 * JSON inlined beside it. `data-points` on each figure and `data-charts` on the body say what
 * was drawn.
 */
function draw(): void {
  const results = JSON.parse(
    document.getElementById(RESULTS_ELEMENT_ID)?.textContent ?? 'null',
  ) as RunResults;
  const host = document.getElementById('charts') as HTMLElement;
  const timeline = timelineOf(results);
  const fns = [...new Set(results.seconds.map((s) => s.fn))].sort();
  const marks = marksOf(results.notes ?? [], Date.parse(results.startedAt) / 1000);
  // Every figure first, then the plots: a plot takes its width from its place in the grid,
  // which is known once all of them are in it.
  const plots: Array<() => void> = [];
  for (const spec of chartSpecs(timeline, fns, sampledFunctions(timeline))) {
    const figure = document.createElement('figure');
    const caption = document.createElement('figcaption');
    caption.textContent = spec.heading;
    const plot = document.createElement('div');
    figure.append(caption, plot);
    host.append(figure);
    const data = timeline.data(spec.keys);
    const points = pointsOf(data);
    figure.dataset.heading = spec.heading;
    figure.dataset.points = String(points);
    if (points === 0) {
      const none = document.createElement('small');
      none.textContent = ' — not recorded in this run';
      caption.append(none);
    }
    const specMarks = spec.marked && marks.length ? () => marks : undefined;
    if (specMarks) figure.dataset.marks = String(marks.length);
    plots.push(
      () => new uPlot(plotOptions(spec.unit, spec.series, plot.clientWidth || 560, specMarks), data, plot),
    );
  }
  for (const draw of plots) draw();
  document.body.dataset.charts = String(plots.length);
}

draw();
