import { css, html, LitElement } from 'lit';
import { customElement, property } from 'lit/decorators.js';

/** The last cat randshow served. */
@customElement('sb-cat')
export class SbCat extends LitElement {
  @property() src = '';
  @property() caption = '';

  static override styles = css`
    :host { display: grid; place-items: center; gap: 0.3rem; min-height: 10rem; }
    img { max-width: 100%; max-height: 16rem; border-radius: 6px; }
    p { margin: 0; color: #999; font-size: 0.85rem; }
  `;

  protected override render() {
    return this.src
      ? html`<img id="cat" src=${this.src} alt=${this.caption || 'the last cat randshow served'} /><p>${this.caption}</p>`
      : html`<p>No cat yet: randshow's first answer will show here.</p>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sb-cat': SbCat;
  }
}
