import { css, html, LitElement } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { FunctionSummary, SecondStats } from '../../../contract/results.ts';

/** Per function: dialled and achieved rate now, totals and percentiles so far. */
@customElement('sb-summary')
export class SbSummary extends LitElement {
  @property({ attribute: false }) last: SecondStats[] = [];
  @property({ attribute: false }) summary: FunctionSummary[] = [];
  @property({ type: Number }) inFlight = 0;
  /** Requests/s Chromium's 6 connections per origin allow at the current latency (browser engine only). */
  @property({ type: Number }) ceiling = 0;

  static override styles = css`
    /* Ten columns do not fit a phone: the table scrolls inside its box, not the page. */
    .scroll { overflow-x: auto; }
    table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
    th, td { padding: 0.25rem 0.5rem; text-align: right; border-bottom: 1px solid #2a2d35; }
    th:first-child, td:first-child { text-align: left; }
    .note { color: #999; font-size: 0.85rem; margin: 0.4rem 0 0; }
    .warn { color: #ffb86b; }
  `;

  protected override render() {
    const now = new Map(this.last.map((s) => [s.fn, s]));
    const dialled = this.last.reduce((n, s) => n + s.dialled, 0);
    return html`
      <div class="scroll" tabindex="0" role="region" aria-label="Per-function numbers">
      <table id="summary">
        <thead><tr><th>function</th><th>dialled/s</th><th>achieved/s</th><th>sent</th><th>2xx</th><th>errors</th><th>dropped</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th></tr></thead>
        <tbody>
          ${this.summary.map((f) => {
            const s = now.get(f.fn);
            return html`<tr data-fn=${f.fn}>
              <td>${f.fn}</td><td>${s ? s.dialled.toFixed(1) : '–'}</td><td>${s ? s.completed : '–'}</td>
              <td class="sent">${f.sent}</td><td>${f.byClass['2xx']}</td><td>${f.completed - f.byClass['2xx']}</td><td>${f.dropped}</td>
              <td>${f.p50.toFixed(1)}</td><td>${f.p95.toFixed(1)}</td><td>${f.p99.toFixed(1)}</td>
            </tr>`;
          })}
        </tbody>
      </table>
      </div>
      <p class="note">In flight: ${this.inFlight}.
        ${
          this.ceiling > 0
            ? html`Chromium opens at most 6 connections per origin over HTTP/1.1: at the current latency that caps this engine near
              <span class=${dialled > this.ceiling ? 'warn' : ''} id="ceiling">${Math.round(this.ceiling)} requests/s</span>
              ${dialled > this.ceiling ? '— the dial is above it; use the server engine.' : '.'}`
            : ''
        }
      </p>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sb-summary': SbSummary;
  }
}
