// <next-event-predictor>: nextevent in a shop page with one script tag and one element.
//
//   <script type="module" src="/embed/next-event-predictor.js"></script>
//   <next-event-predictor threshold="0.1" for="#products"></next-event-predictor>
//
// Clicks on elements carrying data-nextevent-type (view, cart, remove_from_cart, purchase),
// data-nextevent-product, data-nextevent-price and optionally data-nextevent-brand, inside
// the `for` selector (default: the whole document), become observed events. The element
// dispatches `nextevent:prediction` and `nextevent:churn-risk` (they bubble to window),
// `nextevent:ready` once the model is loaded and `nextevent:error` for rejected input.
import init, { Session, Predictor, modelInfo } from './nextevent.js';

let loading;
/** Loads the wasm module and the model once per page; resolves when both are ready. */
export function ready() {
  loading ??= init().then(() => { modelInfo(); });
  return loading;
}
export { Session, Predictor, modelInfo };

export class NextEventPredictor extends HTMLElement {
  static observedAttributes = ['threshold'];
  #session = null;
  #scope = null;
  #onClick = (e) => {
    const el = e.target instanceof Element ? e.target.closest('[data-nextevent-type]') : null;
    if (!el || !this.#session) return;
    const d = el.dataset;
    this.observe({
      event_type: d.nexteventType,
      product_id: d.nexteventProduct,
      price: d.nexteventPrice === undefined ? undefined : Number(d.nexteventPrice),
      brand: d.nexteventBrand || null,
      event_time: Date.now(),
    });
  };

  /** The underlying Session (null until ready). */
  get session() { return this.#session; }

  async connectedCallback() {
    try {
      await ready();
      const t = this.getAttribute('threshold');
      this.#session = new Session({ target: this, ...(t === null ? {} : { threshold: Number(t) }) });
      const sel = this.getAttribute('for');
      this.#scope = sel ? document.querySelector(sel) : document;
      if (!this.#scope) throw new Error(`<next-event-predictor for="${sel}">: no element matches`);
      this.#scope.addEventListener('click', this.#onClick);
      this.dispatchEvent(new CustomEvent('nextevent:ready', { bubbles: true, composed: true, detail: { threshold: this.#session.threshold ?? null } }));
    } catch (err) {
      this.#fail(err);
    }
  }

  disconnectedCallback() {
    this.#scope?.removeEventListener('click', this.#onClick);
    this.#scope = null;
  }

  attributeChangedCallback(name, _old, value) {
    if (name === 'threshold' && this.#session && value !== null) {
      try { this.#session.setThreshold(Number(value)); } catch (err) { this.#fail(err); }
    }
  }

  /** Observes one event; returns the outlook, or null (and fires nextevent:error) if rejected. */
  observe(event) {
    if (!this.#session) { this.#fail(new Error('not ready: wait for nextevent:ready')); return null; }
    try { return this.#session.observe(event); } catch (err) { this.#fail(err); return null; }
  }

  #fail(err) {
    this.dispatchEvent(new CustomEvent('nextevent:error', { bubbles: true, composed: true, detail: { message: String(err?.message ?? err) } }));
  }
}

if (!customElements.get('next-event-predictor')) customElements.define('next-event-predictor', NextEventPredictor);
