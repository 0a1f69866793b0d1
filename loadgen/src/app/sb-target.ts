import { css, html, LitElement } from 'lit';
import { customElement, property } from 'lit/decorators.js';

export interface Target {
  baseUrl: string;
  user: string;
  password: string;
}

/**
 * Where the functions are: the gateway's base URL (this page's origin by default) and the
 * optional basic-auth credentials OpenFaaS asks for on /system/*.
 *
 * @fires target-change - detail: Target
 */
@customElement('sb-target')
export class SbTarget extends LitElement {
  @property({ attribute: false }) target!: Target;

  static override styles = css`
    :host { display: grid; gap: 0.6rem; grid-template-columns: 2fr 1fr 1fr; }
    @media (max-width: 640px) { :host { grid-template-columns: 1fr; } }
    label { display: grid; gap: 0.2rem; font-size: 0.85rem; color: #bbb; }
    input { font: inherit; padding: 0.35rem 0.5rem; background: #1a1d24; color: #eee; border: 1px solid #3a3f4b; border-radius: 4px; }
  `;

  private change(part: Partial<Target>): void {
    this.dispatchEvent(
      new CustomEvent('target-change', {
        detail: { ...this.target, ...part },
        bubbles: true,
        composed: true,
      }),
    );
  }

  protected override render() {
    return html`
      <label>Gateway URL
        <input id="gateway" type="url" .value=${this.target.baseUrl}
          @change=${(e: Event) => this.change({ baseUrl: (e.target as HTMLInputElement).value.replace(/\/+$/, '') })} />
      </label>
      <label>User (for /system/*)
        <input id="user" autocomplete="username" .value=${this.target.user}
          @change=${(e: Event) => this.change({ user: (e.target as HTMLInputElement).value })} />
      </label>
      <label>Password
        <input id="password" type="password" autocomplete="current-password" .value=${this.target.password}
          @change=${(e: Event) => this.change({ password: (e.target as HTMLInputElement).value })} />
      </label>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sb-target': SbTarget;
  }
}
