import { html, LitElement, type PropertyValues } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import uPlot, { type AlignedData } from 'uplot';
import { CHART_HEIGHT, type ChartMark, type ChartSeries, plotOptions, pointsOf } from './charts.ts';

/**
 * One live uPlot chart over wall-clock seconds. Renders in light DOM so uPlot's stylesheet
 * applies; `data-points` tells how many values it draws (for tests and screen readers).
 */
@customElement('sb-chart')
export class SbChart extends LitElement {
  @property({ reflect: true }) heading = '';
  @property() unit = '';
  @property({ attribute: false }) series: ChartSeries[] = [];
  @property({ attribute: false }) data: AlignedData = [[]];
  /** The story's moments to mark (scale events); absent on charts that have none. */
  @property({ attribute: false }) marks: readonly ChartMark[] | undefined;
  private plot: uPlot | undefined;
  private signature = '';
  private readonly resize = new ResizeObserver(() => this.fit());

  protected override createRenderRoot() {
    return this;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.resize.observe(this);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.resize.disconnect();
    this.plot?.destroy();
    this.plot = undefined;
  }

  protected override render() {
    return html`<figure role="group" aria-label=${this.heading}>
      <figcaption>${this.heading}</figcaption>
      <div class="plot"></div>
    </figure>`;
  }

  protected override updated(_changed: PropertyValues): void {
    const signature = this.series.map((s) => s.label).join('|');
    const host = this.querySelector('.plot') as HTMLElement;
    if (!this.plot || signature !== this.signature) {
      this.plot?.destroy();
      this.signature = signature;
      const marks = this.marks ? () => this.marks ?? [] : undefined;
      this.plot = new uPlot(
        plotOptions(this.unit, this.series, this.clientWidth - 8, marks),
        this.data,
        host,
      );
    } else {
      this.plot.setData(this.data);
    }
    this.dataset.points = String(pointsOf(this.data));
    if (this.marks) this.dataset.marks = String(this.marks.length);
  }

  private fit(): void {
    this.plot?.setSize({ width: Math.max(this.clientWidth - 8, 240), height: CHART_HEIGHT });
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sb-chart': SbChart;
  }
}
