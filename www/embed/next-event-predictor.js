// <next-event-predictor>: nextevent in a shop page with one script tag and one element.
//
//   <script type="module" src="/embed/next-event-predictor.js"></script>
//   <next-event-predictor source="dataLayer"></next-event-predictor>
//
// Where events come from (`source`, space-separated, default "clicks"):
// - "dataLayer": the GA4 ecommerce events the shop already pushes (view_item, add_to_cart,
//   remove_from_cart, purchase, each with items[]), object pushes and gtag()-style pushes.
// - "segment": analytics.js track calls (Product Viewed / Added / Removed, Order Completed).
// - "clicks": clicks on elements with data-nextevent-type (view, cart, remove_from_cart,
//   purchase), data-nextevent-product, data-nextevent-price and optionally
//   data-nextevent-brand inside the `for` selector (default: the whole document); an element
//   with data-nextevent-view (and the same product attributes) is a view observed on load.
// The visit is kept in sessionStorage (`storage="session" | "local" | "none"`) under
// STORAGE_KEY and restored on the next page; `consent="pending"` keeps nothing until the
// page sets "granted" (or drops everything on "denied"). Sources attach when the element is
// defined, before the model loads; what arrives meanwhile is queued in order.
// The element dispatches `nextevent:prediction` and `nextevent:churn-risk` (they bubble to
// window), `nextevent:ready` once the model is loaded (and the visit restored) and
// `nextevent:error` for rejected input, a discarded stored visit or a malformed push.
import init, { Session, Predictor, modelInfo } from './nextevent.js';

let loading;
/** Loads the wasm module and the model once per page; resolves when both are ready. */
export function ready() {
  loading ??= init().then(() => { modelInfo(); });
  return loading;
}
export { Session, Predictor, modelInfo };

/** Where the visit is kept; the version changes when the stored shape does. */
export const STORAGE_KEY = 'nextevent:visit:v1';
/** A visit whose last event is older than this starts over (the dataset's session gap). */
export const SESSION_GAP_MS = 30 * 60 * 1000;
/** Purchase transaction ids remembered for de-duplication (a reloaded confirmation page). */
const MAX_TRANSACTIONS = 50;
/** Events queued before the model is ready or while consent is pending. */
const MAX_QUEUE = 1000;
const KINDS = new Set(['view', 'cart', 'remove_from_cart', 'purchase']);
const GA4 = { view_item: 'view', add_to_cart: 'cart', remove_from_cart: 'remove_from_cart', purchase: 'purchase' };
const SEGMENT = { 'Product Viewed': 'view', 'Product Added': 'cart', 'Product Removed': 'remove_from_cart', 'Order Completed': 'purchase' };

/**
 * A shop's item id as the model's numeric product id: ids that are whole numbers (up to
 * 2^52) are used as they are; any other id (e.g. "SKU_12345") maps to
 * 2^52 + (FNV-1a 64 of its UTF-8 bytes mod 2^52), so it is stable across pages and visits and
 * never equals a numeric id. The original id is kept in the element's history.
 */
export function productIdOf(itemId) {
  const s = String(itemId).trim();
  if (/^\d{1,16}$/.test(s) && Number(s) < 2 ** 52) return Number(s);
  let h = 0xcbf29ce484222325n;
  for (const b of new TextEncoder().encode(s)) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return 2 ** 52 + Number(h & 0xfffffffffffffn);
}

/** A price as shops send it (a number or a numeric string) or an error naming the field. */
function priceOf(v, where) {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new Error(`${where}.price: ${typeof v === 'string' ? JSON.stringify(v) : String(v)} is not a number`);
  return n;
}

function text(v) {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : typeof v === 'number' ? String(v) : null;
}

/** One GA4 items[] line → an observed event (one event per line: quantity is kept, not multiplied). */
function fromGa4Item(kind, item, where, now) {
  if (!item || typeof item !== 'object') throw new Error(`${where}: not an object`);
  const id = item.item_id ?? item.item_name;
  if (text(id) === null) throw new Error(`${where}: no item_id`);
  const cats = [item.item_category, item.item_category2, item.item_category3, item.item_category4, item.item_category5].map(text).filter(Boolean);
  return {
    event: {
      event_type: kind, event_time: now, product_id: productIdOf(id), price: priceOf(item.price, where),
      brand: text(item.item_brand)?.toLowerCase() ?? null, ...(cats.length ? { category_code: cats.join('.').toLowerCase() } : {}),
    },
    meta: { item_id: String(id), quantity: item.quantity === undefined ? 1 : Number(item.quantity) },
  };
}

/** One Segment product (track properties or an Order Completed products[] entry). */
function fromSegmentProduct(kind, p, where, now) {
  if (!p || typeof p !== 'object') throw new Error(`${where}: not an object`);
  const id = p.product_id ?? p.sku ?? p.id;
  if (text(id) === null) throw new Error(`${where}: no product_id`);
  return {
    event: {
      event_type: kind, event_time: now, product_id: productIdOf(id), price: priceOf(p.price, where),
      brand: text(p.brand)?.toLowerCase() ?? null, ...(text(p.category) ? { category_code: text(p.category).toLowerCase() } : {}),
    },
    meta: { item_id: String(id), quantity: p.quantity === undefined ? 1 : Number(p.quantity) },
  };
}

/**
 * One dataLayer entry → { events, transaction } | { ignored: name } | { consent } | null (a
 * state push that is not an event, e.g. `{ecommerce: null}`). Throws for a malformed
 * ecommerce event. Never mutates the pushed value.
 */
export function readDataLayerEntry(entry, now = Date.now()) {
  if (entry === null || typeof entry !== 'object') return { ignored: typeof entry };
  let name, ecommerce;
  const isArgs = Object.prototype.toString.call(entry) === '[object Arguments]' || Array.isArray(entry);
  if (isArgs) {
    // gtag('event', name, params) and gtag('consent', 'default' | 'update', {...}).
    if (entry[0] === 'consent' && entry[2] && typeof entry[2] === 'object') {
      const s = entry[2].analytics_storage;
      return s === 'granted' || s === 'denied' ? { consent: s } : null;
    }
    if (entry[0] !== 'event') return null; // gtag('js', …), gtag('config', …), gtag('set', …)
    [name, ecommerce] = [entry[1], entry[2]];
  } else {
    if (!('event' in entry)) return null; // {ecommerce: null}, data-state pushes
    [name, ecommerce] = [entry.event, entry.ecommerce];
  }
  const kind = GA4[name];
  if (!kind) return { ignored: String(name) };
  const where = `dataLayer ${name}`;
  const items = ecommerce?.items;
  if (!Array.isArray(items) || items.length === 0) throw new Error(`${where}: no ecommerce.items`);
  const events = items.map((it, i) => fromGa4Item(kind, it, `${where} items[${i}]`, now));
  return { events, transaction: kind === 'purchase' ? text(ecommerce.transaction_id) : null };
}

/** One Segment track call → the same shape as readDataLayerEntry. */
export function readSegmentTrack(name, props, now = Date.now()) {
  const kind = SEGMENT[name];
  if (!kind) return { ignored: String(name) };
  const where = `segment ${name}`;
  if (!props || typeof props !== 'object') throw new Error(`${where}: no properties`);
  if (kind === 'purchase') {
    if (!Array.isArray(props.products) || props.products.length === 0) throw new Error(`${where}: no products`);
    return { events: props.products.map((p, i) => fromSegmentProduct(kind, p, `${where} products[${i}]`, now)), transaction: text(props.order_id) };
  }
  return { events: [fromSegmentProduct(kind, props, where, now)], transaction: null };
}

/** The stored visit, checked field by field: returns { session, meta, transactions } or throws. */
function parseStored(raw, options) {
  const rec = JSON.parse(raw);
  if (!rec || typeof rec !== 'object' || rec.v !== 1) throw new Error('not a version-1 record');
  if (typeof rec.session !== 'string') throw new Error('no session');
  const session = Session.restore(rec.session, options);
  const n = session.history.length;
  if (!Array.isArray(rec.meta) || rec.meta.length !== n) throw new Error(`meta does not match the ${n} kept events`);
  for (const m of rec.meta) {
    if (m !== null && (typeof m !== 'object' || typeof m.item_id !== 'string' || m.item_id.length > 200 || !Number.isFinite(m.quantity))) throw new Error('malformed meta entry');
  }
  if (!Array.isArray(rec.transactions) || rec.transactions.length > MAX_TRANSACTIONS || !rec.transactions.every((t) => typeof t === 'string' && t.length <= 200)) throw new Error('malformed transactions');
  return { session, meta: rec.meta, transactions: rec.transactions };
}

export class NextEventPredictor extends HTMLElement {
  static observedAttributes = ['threshold', 'consent'];
  #session = null;
  #meta = []; // per kept event: { item_id, quantity } from GA4/Segment, or null
  #transactions = [];
  #queue = [];
  #scope = null;
  #detach = [];
  #connected = false;
  /** What was observed, ignored (by name) and rejected since this page loaded. */
  stats = { observed: 0, queued: 0, ignored: {}, rejected: 0, duplicates: 0, restored: 0, expired: false };

  #onClick = (e) => {
    const el = e.target instanceof Element ? e.target.closest('[data-nextevent-type]') : null;
    if (el) this.#ingestClick(el, el.dataset.nexteventType);
  };

  /** The underlying Session (null until ready). */
  get session() { return this.#session; }
  /** The kept events, oldest first, each with the shop's original `item_id` and `quantity` when it came from GA4 or Segment. */
  get history() {
    return this.#session ? this.#session.history.map((e, i) => ({ ...e, ...(this.#meta[i] ?? {}) })) : [];
  }
  get #storage() {
    const s = this.getAttribute('storage') ?? 'session';
    try { return s === 'local' ? window.localStorage : s === 'none' ? null : window.sessionStorage; } catch { return null; }
  }
  get #consent() { return this.getAttribute('consent') ?? 'granted'; }
  #sources() { return new Set((this.getAttribute('source') ?? 'clicks').split(/\s+/).filter(Boolean)); }

  connectedCallback() {
    if (this.#connected) return;
    this.#connected = true;
    const sources = this.#sources();
    for (const s of sources) if (!['dataLayer', 'segment', 'clicks'].includes(s)) this.#fail(new Error(`source="${s}" is not one of dataLayer, segment, clicks`), 'attribute');
    // Attach first (synchronously, before the model loads) so nothing pushed meanwhile is missed.
    if (sources.has('dataLayer')) this.#attachDataLayer();
    if (sources.has('segment')) this.#attachSegment();
    if (sources.has('clicks')) this.#attachClicks();
    if ((this.getAttribute('storage') ?? 'session') === 'local') {
      const onStorage = (e) => { if (e.key === STORAGE_KEY && this.#session && this.#consent === 'granted') this.#restore(e.newValue, false); };
      addEventListener('storage', onStorage);
      this.#detach.push(() => removeEventListener('storage', onStorage));
    }
    this.#start();
  }

  async #start() {
    try {
      await ready();
      const t = this.getAttribute('threshold');
      this.#options = { target: this, ...(t === null ? {} : { threshold: Number(t) }) };
      this.#session = new Session(this.#options);
      if (this.#consent === 'granted') this.#restore(this.#storage?.getItem(STORAGE_KEY) ?? null, true);
      if (this.#consent === 'denied') this.#forget();
      this.dispatchEvent(new CustomEvent('nextevent:ready', {
        bubbles: true, composed: true,
        detail: { threshold: this.#session.threshold ?? null, restored: this.stats.restored, expired: this.stats.expired, atRisk: this.#session.atRisk, stage: this.#session.stage },
      }));
      this.#releaseErrors();
      this.#drain();
    } catch (err) {
      this.#releaseErrors();
      this.#fail(err, 'model');
    }
  }
  #options = null;

  /** Replaces the session with the stored one (or starts a new visit if it is stale or absent). */
  #restore(raw, initial) {
    if (raw === null) return;
    try {
      const { session, meta, transactions } = parseStored(raw, this.#options);
      const last = session.history.at(-1);
      if (last && Date.now() - Date.parse(last.event_time) > SESSION_GAP_MS) {
        this.#storage?.removeItem(STORAGE_KEY);
        if (initial) this.stats.expired = true;
        session.free();
        return;
      }
      this.#session?.free();
      [this.#session, this.#meta] = [session, meta];
      this.#transactions = [...new Set([...transactions, ...this.#transactions])].slice(-MAX_TRANSACTIONS);
      if (initial) this.stats.restored = session.observed;
    } catch (err) {
      try { this.#storage?.removeItem(STORAGE_KEY); } catch { /* storage unavailable */ }
      this.#fail(new Error(`stored visit discarded: ${err?.message ?? err}`), 'storage');
    }
  }

  #save() {
    if (this.#consent !== 'granted' || !this.#session) return;
    try {
      this.#storage?.setItem(STORAGE_KEY, JSON.stringify({ v: 1, session: this.#session.snapshot(), meta: this.#meta, transactions: this.#transactions }));
    } catch (err) {
      this.#fail(new Error(`could not store the visit: ${err?.message ?? err}`), 'storage');
    }
  }

  disconnectedCallback() {
    this.#scope?.removeEventListener('click', this.#onClick);
    this.#scope = null;
    for (const d of this.#detach.splice(0)) d();
    this.#connected = false;
  }

  attributeChangedCallback(name, _old, value) {
    if (name === 'threshold' && this.#session && value !== null) {
      try { this.#session.setThreshold(Number(value)); } catch (err) { this.#fail(err, 'attribute'); }
    }
    if (name === 'consent') this.#consentChanged(value ?? 'granted');
  }

  #consentChanged(value) {
    if (value === 'denied') { this.#forget(); return; }
    if (value === 'granted' && this.#session) {
      // The stored visit (from an earlier page where consent was given) comes first, then
      // what was queued on this page while consent was pending.
      if (this.#session.observed === 0) this.#restore(this.#storage?.getItem(STORAGE_KEY) ?? null, true);
      this.#drain();
    }
  }

  /** Drops the queue and the session and erases the stored visit. */
  #forget() {
    this.#queue = [];
    this.#session?.clear();
    this.#meta = [];
    this.#transactions = [];
    try { window.sessionStorage.removeItem(STORAGE_KEY); window.localStorage.removeItem(STORAGE_KEY); } catch { /* unavailable */ }
  }

  /** Forgets this visit: the session, the queue and the stored history. */
  clear() { this.#forget(); }

  /**
   * Observes one event. Once ready (and with consent), returns the outlook, or null (and
   * fires nextevent:error) if rejected; before that the event is queued in order and null is
   * returned — its nextevent:prediction fires when it is observed.
   */
  observe(event) {
    if (this.#consent === 'denied') return null;
    if (!this.#canObserve()) { this.#enqueue({ event, meta: null }); return null; }
    return this.#observeNow(event, null);
  }

  #canObserve() { return this.#session !== null && this.#consent === 'granted' && this.#queue.length === 0; }

  #enqueue(item) {
    if (this.#queue.length >= MAX_QUEUE) { this.stats.rejected++; this.#fail(new Error(`queue full (${MAX_QUEUE} entries): dropped`), 'queue'); return; }
    this.#queue.push(item);
    this.stats.queued++;
  }

  #drain() {
    if (!this.#session || this.#consent !== 'granted') return;
    for (const q of this.#queue.splice(0)) {
      if (q.read) this.#commitRead(q.read, q.origin); else this.#observeNow(q.event, q.meta);
    }
  }

  #observeNow(event, meta) {
    try {
      // A gap longer than a session's starts a new visit, as in the training data.
      const last = this.#session.history.at(-1);
      const t = event?.event_time instanceof Date ? event.event_time.getTime() : typeof event?.event_time === 'number' ? event.event_time : Date.parse(event?.event_time);
      if (last && Number.isFinite(t) && t - Date.parse(last.event_time) > SESSION_GAP_MS) { this.#session.clear(); this.#meta = []; }
      const outlook = this.#session.observe(event);
      this.#meta.push(meta);
      const keep = this.#session.history.length;
      if (this.#meta.length > keep) this.#meta.splice(0, this.#meta.length - keep);
      this.stats.observed++;
      this.#save();
      return outlook;
    } catch (err) {
      this.stats.rejected++;
      this.#fail(err, 'event');
      return null;
    }
  }

  /**
   * A read dataLayer/Segment entry → observed events. Purchases are de-duplicated by
   * transaction id when they are observed (not when read), so a confirmation page reloaded
   * before the stored visit is restored still counts its purchase once.
   */
  #ingestRead(read, origin) {
    if (read === null) return;
    if (read.consent) {
      // Consent Mode's analytics_storage counts only for a page that opted in to consent.
      if (this.hasAttribute('consent')) this.setAttribute('consent', read.consent);
      return;
    }
    if (read.ignored !== undefined) { this.stats.ignored[read.ignored] = (this.stats.ignored[read.ignored] ?? 0) + 1; return; }
    if (this.#consent === 'denied') return;
    if (!this.#canObserve()) { this.#enqueue({ read, origin }); return; }
    this.#commitRead(read, origin);
  }

  #commitRead(read, origin) {
    if (read.transaction) {
      if (this.#transactions.includes(read.transaction)) { this.stats.duplicates++; return; }
      this.#transactions = [...this.#transactions, read.transaction].slice(-MAX_TRANSACTIONS);
    }
    for (const { event, meta } of read.events) this.#observeNow(event, { ...meta, source: origin, ...(read.transaction ? { transaction: read.transaction } : {}) });
  }

  #attachDataLayer() {
    const dl = (window.dataLayer = window.dataLayer || []);
    const handle = (entry) => {
      try { this.#ingestRead(readDataLayerEntry(entry), 'dataLayer'); } catch (err) { this.stats.rejected++; this.#fail(err, 'dataLayer'); }
    };
    for (const entry of Array.from(dl)) handle(entry);
    // Chain to whatever push is installed now (Array.prototype.push or a tag manager's); a
    // tag manager installed later wraps ours the same way and so still reaches it.
    const previous = dl.push;
    const wrapped = function push(...args) {
      const r = previous.apply(this, args);
      for (const a of args) handle(a);
      return r;
    };
    dl.push = wrapped;
    this.#detach.push(() => { if (dl.push === wrapped) dl.push = previous; });
  }

  #attachSegment() {
    const a = window.analytics;
    // analytics.js (or its snippet's stub, which queues `on` until the library loads); when
    // it is blocked or absent nothing is attached and nothing breaks.
    if (!a || typeof a.on !== 'function') { this.#fail(new Error('source="segment": window.analytics is not on the page (load the Segment snippet before this element)'), 'segment'); return; }
    try {
      a.on('track', (name, props) => {
        try { this.#ingestRead(readSegmentTrack(name, props), 'segment'); } catch (err) { this.stats.rejected++; this.#fail(err, 'segment'); }
      });
    } catch (err) {
      this.#fail(err, 'segment');
    }
  }

  #attachClicks() {
    const sel = this.getAttribute('for');
    this.#scope = sel ? document.querySelector(sel) : document;
    if (!this.#scope) { this.#fail(new Error(`<next-event-predictor for="${sel}">: no element matches`), 'attribute'); return; }
    this.#scope.addEventListener('click', this.#onClick);
    // Views declared by the page (a product page is a view on load).
    const declare = () => { for (const el of this.#scope.querySelectorAll('[data-nextevent-view]')) this.#ingestClick(el, 'view'); };
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', declare, { once: true }); else declare();
  }

  #ingestClick(el, kind) {
    const d = el.dataset;
    if (!KINDS.has(kind)) { this.stats.rejected++; this.#fail(new Error(`data-nextevent-type="${kind}" is not one of view, cart, remove_from_cart, purchase`), 'clicks'); return; }
    this.observe({
      event_type: kind,
      product_id: d.nexteventProduct,
      price: d.nexteventPrice === undefined ? undefined : Number(d.nexteventPrice),
      brand: d.nexteventBrand || null,
      event_time: Date.now(),
    });
  }

  /**
   * Reports a rejection as nextevent:error. Before nextevent:ready (a malformed push made
   * before the script loaded, a discarded stored visit) the page's own listeners may not be
   * attached yet — its module runs after this one — so those wait and follow ready.
   */
  #fail(err, source) {
    const detail = { message: String(err?.message ?? err), source };
    if (this.#held) this.#held.push(detail); else this.#dispatchError(detail);
  }
  #held = [];
  #releaseErrors() {
    const held = this.#held ?? [];
    this.#held = null;
    for (const d of held) this.#dispatchError(d);
  }
  #dispatchError(detail) {
    this.dispatchEvent(new CustomEvent('nextevent:error', { bubbles: true, composed: true, detail }));
  }
}

if (!customElements.get('next-event-predictor')) customElements.define('next-event-predictor', NextEventPredictor);
