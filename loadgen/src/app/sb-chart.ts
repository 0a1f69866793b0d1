import { html, LitElement, type PropertyValues } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import uPlot, { type AlignedData, type Options } from 'uplot';

export interface ChartSeries {
  label: string;
  stroke: string;
  dash?: number[];
  /** Polled series have a value every few seconds: join their points. */
  spanGaps?: boolean;
}

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
      this.plot = new uPlot(this.options(), this.data, host);
    } else {
      this.plot.setData(this.data);
    }
    const points = this.data
      .slice(1)
      .reduce((n, ys) => n + (ys as Array<number | null>).filter((v) => v !== null).length, 0);
    this.dataset.points = String(points);
  }

  private options(): Options {
    return {
      width: Math.max(this.clientWidth - 8, 240),
      height: 180,
      legend: { live: false },
      scales: { x: { time: true } },
      axes: [
        { stroke: '#aaa', grid: { stroke: '#2a2d35' } },
        { stroke: '#aaa', grid: { stroke: '#2a2d35' }, label: this.unit, size: 56 },
      ],
      series: [
        {},
        ...this.series.map((s) => ({
          label: s.label,
          stroke: s.stroke,
          width: 1.5,
          spanGaps: s.spanGaps ?? false,
          ...(s.dash ? { dash: s.dash } : {}),
        })),
      ],
    };
  }

  private fit(): void {
    this.plot?.setSize({ width: Math.max(this.clientWidth - 8, 240), height: 180 });
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sb-chart': SbChart;
  }
}
