import { css, html, LitElement } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { STRATEGIES, type Strategy } from '../../../contract/functions.ts';
import { noTrafficProblem, type Plan, PROFILES, type Profile } from '../../../contract/plan.ts';
import type { EngineKind } from './engine-controller.ts';

/**
 * The dial: total rate, the randstore : randshow ratio, randshow's strategy, the profile and
 * duration, and the engine. Changes to rate, ratio and strategy apply at once while running.
 *
 * @fires plan-change - detail: the changed part of the plan
 * @fires engine-change - detail: 'browser' | 'server'
 * @fires start-run
 * @fires stop-run
 */
@customElement('sb-dial')
export class SbDial extends LitElement {
  @property({ attribute: false }) plan!: Plan;
  @property() engine: EngineKind = 'browser';
  @property({ type: Boolean }) running = false;

  static override styles = css`
    :host { display: grid; gap: 0.6rem; grid-template-columns: repeat(auto-fit, minmax(11rem, 1fr)); align-items: end; }
    label { display: grid; gap: 0.2rem; font-size: 0.85rem; color: #bbb; }
    input, select, button { font: inherit; padding: 0.35rem 0.5rem; background: #1a1d24; color: #eee; border: 1px solid #3a3f4b; border-radius: 4px; }
    input[type='range'] { padding: 0; }
    button { cursor: pointer; font-weight: 600; }
    button.start { background: #1f6f3f; border-color: #2d9a58; }
    button.stop { background: #8a2b2b; border-color: #b33d3d; }
    button:focus-visible, input:focus-visible, select:focus-visible { outline: 2px solid #6cb6ff; outline-offset: 1px; }
    .ratio { display: flex; gap: 0.3rem; align-items: center; }
    .ratio input { width: 4.5rem; }
  `;

  private change(part: Partial<Plan>): void {
    this.dispatchEvent(new CustomEvent('plan-change', { detail: part, bubbles: true, composed: true }));
  }

  /** The range slider is logarithmic: fine steps at a few requests/s, coarse ones at thousands. */
  private static toSlider = (rate: number) => Math.round(Math.log10(Math.max(rate, 0.1)) * 100);
  private static fromSlider = (v: number) => {
    const r = 10 ** (v / 100);
    return r < 10 ? Math.round(r * 10) / 10 : Math.round(r);
  };

  protected override render() {
    const p = this.plan;
    return html`
      <label>Rate (requests/s)
        <input id="rate" type="number" min="0" max="100000" step="any" .value=${String(p.rate)}
          @change=${(e: Event) => this.change({ rate: Number((e.target as HTMLInputElement).value) })} />
      </label>
      <label>Rate dial
        <input id="rate-dial" type="range" min="-100" max="400" .value=${String(SbDial.toSlider(p.rate))}
          aria-valuetext=${`${p.rate} requests per second`}
          @input=${(e: Event) => this.change({ rate: SbDial.fromSlider(Number((e.target as HTMLInputElement).value)) })} />
      </label>
      <label>randstore : randshow
        <span class="ratio">
          <input id="ratio-store" type="number" min="0" step="1" aria-label="randstore weight" .value=${String(p.ratio.randstore)}
            @change=${(e: Event) => this.change({ ratio: { ...p.ratio, randstore: Number((e.target as HTMLInputElement).value) } })} />
          :
          <input id="ratio-show" type="number" min="0" step="1" aria-label="randshow weight" .value=${String(p.ratio.randshow)}
            @change=${(e: Event) => this.change({ ratio: { ...p.ratio, randshow: Number((e.target as HTMLInputElement).value) } })} />
        </span>
      </label>
      <label>randshow strategy
        <select id="strategy" @change=${(e: Event) => this.change({ strategy: (e.target as HTMLSelectElement).value as Strategy })}>
          ${STRATEGIES.map((s) => html`<option value=${s} ?selected=${s === p.strategy}>${s}</option>`)}
        </select>
      </label>
      <label>Profile
        <select id="profile" ?disabled=${this.running} @change=${(e: Event) => this.change({ profile: (e.target as HTMLSelectElement).value as Profile })}>
          ${PROFILES.map((s) => html`<option value=${s} ?selected=${s === p.profile}>${s}</option>`)}
        </select>
      </label>
      <label>Duration (s, 0 = until stopped)
        <input id="duration" type="number" min="0" step="1" ?disabled=${this.running} .value=${String(p.durationS)}
          @change=${(e: Event) => this.change({ durationS: Number((e.target as HTMLInputElement).value) })} />
      </label>
      <label>Engine
        <select id="engine" ?disabled=${this.running}
          @change=${(e: Event) => this.dispatchEvent(new CustomEvent('engine-change', { detail: (e.target as HTMLSelectElement).value, bubbles: true, composed: true }))}>
          <option value="browser" ?selected=${this.engine === 'browser'}>browser (Web Worker)</option>
          <option value="server" ?selected=${this.engine === 'server'}>server (local gateway)</option>
        </select>
      </label>
      ${
        this.running
          ? html`<button id="stop" class="stop" @click=${() => this.dispatchEvent(new CustomEvent('stop-run', { bubbles: true, composed: true }))}>Stop</button>`
          : html`<button id="start" class="start" ?disabled=${!!noTrafficProblem(p)} @click=${() => this.dispatchEvent(new CustomEvent('start-run', { bubbles: true, composed: true }))}>Start</button>`
      }
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sb-dial': SbDial;
  }
}
