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
// The model runs in a module Web Worker (nextevent-worker.js), off the page's main thread; where
// module workers are unavailable it runs on the page's thread (the same code,
// nextevent-engine.js). It loads after the page's `load` event, when the browser is idle
// (`loading="lazy"`, the default; `loading="eager"` starts at once). `model="/models/shop.onnx"`
// runs the shop's own exported model instead of the embedded one (same origin, at most
// MAX_MODEL_FETCH_BYTES, refused with the reason if its spec or graph is not one nextevent
// wrote: the embedded model is kept). A trap in the worker (a WebAssembly.RuntimeError) is
// contained: the worker is replaced by a fresh one with the embedded model and the visit as it
// was before the event that trapped, at most MAX_RESTARTS times.
// The element dispatches `nextevent:prediction` and `nextevent:churn-risk` (they bubble to
// window), `nextevent:ready` once the model is loaded (and the visit restored) and
// `nextevent:error` for rejected input, a discarded stored visit, a malformed push, a refused
// model or a trap.
import init, { Session, Predictor, modelInfo } from './nextevent.js';
import { createHandler, trapMessage } from './nextevent-engine.js';

let loading;
/** Loads the wasm module and the model once per page on this thread (for `Session` and `Predictor` used directly; the element does not need it); resolves when both are ready. */
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
/** The largest `model="…"` file fetched. */
export const MAX_MODEL_FETCH_BYTES = 8 * 1024 * 1024;
/** Fresh workers started after traps before the element stops predicting for this page. */
export const MAX_RESTARTS = 3;
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

/** The stored visit's record, checked field by field (the session string is checked by Session.restore): { session, meta, transactions } or throws. */
function parseStored(raw) {
  const rec = JSON.parse(raw);
  if (!rec || typeof rec !== 'object' || rec.v !== 1) throw new Error('not a version-1 record');
  if (typeof rec.session !== 'string') throw new Error('no session');
  if (!Array.isArray(rec.meta)) throw new Error('no meta');
  for (const m of rec.meta) {
    if (m !== null && (typeof m !== 'object' || typeof m.item_id !== 'string' || m.item_id.length > 200 || !Number.isFinite(m.quantity))) throw new Error('malformed meta entry');
  }
  if (!Array.isArray(rec.transactions) || rec.transactions.length > MAX_TRANSACTIONS || !rec.transactions.every((t) => typeof t === 'string' && t.length <= 200)) throw new Error('malformed transactions');
  return { session: rec.session, meta: rec.meta, transactions: rec.transactions };
}

/** A request the engine could not answer because its wasm instance died (or its worker never started). */
class Trap extends Error {
  constructor(message, startup = false) { super(message); this.name = 'Trap'; this.startup = startup; }
}

/** The model in a module worker: requests by message, replies matched by id. */
class WorkerEngine {
  kind = 'worker';
  #worker;
  #pending = new Map();
  #next = 1;
  #listening = false;
  #dead = null;
  constructor(worker) {
    this.#worker = worker;
    worker.addEventListener('message', (e) => {
      const { id, reply, error, trap } = e.data ?? {};
      if (id === 0) { this.#listening = true; return; }
      // A trap ends the instance: this request and every other pending one fail with it.
      if (trap !== undefined) { this.#die(new Trap(trap)); return; }
      const p = this.#pending.get(id);
      if (!p) return;
      this.#pending.delete(id);
      if (error !== undefined) p.reject(new Error(error)); else p.resolve(reply);
    });
    // A worker script that cannot load (blocked, not found, no module support after all) or
    // an uncaught error inside it: every pending request fails.
    worker.addEventListener('error', (e) => {
      e.preventDefault?.();
      this.#die(new Trap(`the worker failed: ${e.message || 'its script did not load'}`, !this.#listening));
    });
  }
  #die(err) {
    this.#dead ??= err;
    for (const p of this.#pending.values()) p.reject(this.#dead);
    this.#pending.clear();
  }
  request(msg) {
    if (this.#dead) return Promise.reject(this.#dead);
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ id, ...msg });
    });
  }
  stop() { this.#worker.terminate(); this.#die(new Trap('the worker was stopped')); }
}

/** The same engine on the page's thread, where module workers are unavailable. */
class InlineEngine {
  kind = 'main-thread';
  #handle = createHandler();
  async request(msg) {
    try {
      // A compiled module is passed as it is (the same thread); the rest is copied as a worker
      // would receive it.
      const { wasm, ...rest } = msg;
      return await this.#handle({ ...structuredClone(rest), ...(wasm ? { wasm } : {}) });
    } catch (err) {
      const trap = trapMessage(err);
      throw trap === null ? err : new Trap(trap);
    }
  }
  stop() {}
}

const WORKER_URL = new URL('./nextevent-worker.js', import.meta.url);
const WASM_URL = new URL('./nextevent_bg.wasm', import.meta.url);

/**
 * The wasm, compiled by the page (a WebAssembly.Module, or undefined where that fails: the
 * engine then loads it itself). Compiled here and posted to the worker, because Chromium then
 * reuses the optimised code it cached for the page on the next page of the visit. A worker
 * compiling the same file itself measured 85–170 ms per `open` on the second page, against
 * 20–60 ms with the page's module (perf/pageload.sh measures navigation → ready). Compiling streams on the
 * browser's background threads, and a restarted worker reuses the module.
 */
function compileWasm() {
  if (typeof WebAssembly.compileStreaming !== 'function') return Promise.resolve(undefined);
  return WebAssembly.compileStreaming(fetch(WASM_URL)).catch(() => undefined);
}

/**
 * A module worker, or null where the browser has none: a browser reads `type` from the
 * options only if it supports module workers (older Firefox ignores it and would start a
 * classic worker that cannot `import`), so that read is the test.
 */
function moduleWorker() {
  if (typeof Worker !== 'function') return null;
  let supported = false;
  const options = { get type() { supported = true; return 'module'; } };
  let w;
  try { w = new Worker(WORKER_URL, options); } catch { return null; }
  if (!supported) { w.terminate(); return null; }
  return w;
}

/** The bytes of the shop's own model (`model="…"`): same origin only, size-capped. */
async function fetchModel(attr) {
  const url = new URL(attr, document.baseURI);
  if (url.origin !== location.origin) throw new Error(`it is not on this page's origin (${location.origin}); models are fetched from the shop's own server only`);
  const res = await fetch(url, { credentials: 'same-origin' });
  if (!res.ok) throw new Error(`the server answered HTTP ${res.status}`);
  const declared = Number(res.headers.get('content-length'));
  if (declared > MAX_MODEL_FETCH_BYTES) throw new Error(`${declared} bytes; the limit is ${MAX_MODEL_FETCH_BYTES}`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (bytes.length > MAX_MODEL_FETCH_BYTES) throw new Error(`${bytes.length} bytes; the limit is ${MAX_MODEL_FETCH_BYTES}`);
  return bytes;
}

/** Resolves after the page's load event, once the browser is idle (at most 2 s later). */
function afterPage() {
  const loaded = document.readyState === 'complete' ? Promise.resolve() : new Promise((r) => addEventListener('load', r, { once: true }));
  return loaded.then(() => new Promise((r) => (typeof requestIdleCallback === 'function' ? requestIdleCallback(() => r(), { timeout: 2000 }) : setTimeout(r, 0))));
}

export class NextEventPredictor extends HTMLElement {
  static observedAttributes = ['threshold', 'consent'];
  /** The engine (worker or main thread); null before loading and once stopped. */
  #engine = null;
  #wasm = null;
  /** The session's state after the last request: { history, observed, atRisk, stage, threshold, snapshot }. */
  #state = null;
  /** Requests to the engine, one after another: events are observed in the order they came. */
  #chain = Promise.resolve();
  #ready = false;
  #stopped = false;
  /** Whether the shop's model (`model="…"`) is the one in use. */
  #ownModel = false;
  #info = null;
  #meta = []; // per kept event: { item_id, quantity } from GA4/Segment, or null
  #transactions = [];
  #queue = [];
  #scope = null;
  #detach = [];
  #connected = false;
  #started = false;
  // Moving the element (a framework re-parenting it) disconnects and reconnects it: each source
  // is attached once, and what it already read is not read again.
  #dataLayer = null; // { array, read }: the dataLayer wrapped, and how many of its entries were read
  #segment = false;
  #declared = new WeakSet();
  /** What was observed, ignored (by name) and rejected since this page loaded, and where the model runs. */
  stats = { observed: 0, queued: 0, ignored: {}, rejected: 0, duplicates: 0, restored: 0, expired: false, engine: null, restarts: 0, detached: 0 };

  #onClick = (e) => {
    const el = e.target instanceof Element ? e.target.closest('[data-nextevent-type]') : null;
    if (el) this.#ingestClick(el, el.dataset.nexteventType);
  };

  /** `loading` until `nextevent:ready`, then `ready`; `stopped` after too many traps. */
  get readyState() { return this.#stopped ? 'stopped' : this.#ready ? 'ready' : 'loading'; }

  /** The kept events, oldest first, each with the shop's original `item_id` and `quantity` when it came from GA4 or Segment. */
  get history() {
    return this.#state ? this.#state.history.map((e, i) => ({ ...e, ...(this.#meta[i] ?? {}) })) : [];
  }

  /**
   * The session once every event observed so far has been predicted: `{history, observed,
   * atRisk, stage, threshold, engine, model}` (null until `nextevent:ready`). Replaces the
   * synchronous `session` property of 0.1 (the Session now lives in the worker).
   */
  async sessionState() {
    await this.#chain;
    if (!this.#state) return null;
    const { snapshot, ...s } = this.#state;
    return { ...s, history: this.history, engine: this.stats.engine, model: this.#info?.name ?? null };
  }

  get #storage() {
    const s = this.getAttribute('storage') ?? 'session';
    try { return s === 'local' ? window.localStorage : s === 'none' ? null : window.sessionStorage; } catch { return null; }
  }
  get #consent() { return this.getAttribute('consent') ?? 'granted'; }
  get #threshold() { const t = this.getAttribute('threshold'); return t === null ? null : Number(t); }
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
      const onStorage = (e) => { if (e.key === STORAGE_KEY && this.#ready && this.#consent === 'granted') this.#then(() => this.#restore(e.newValue, false)); };
      addEventListener('storage', onStorage);
      this.#detach.push(() => removeEventListener('storage', onStorage));
    }
    if (!this.#started) { this.#started = true; this.#start(); }
  }

  /** Runs `fn` after every request before it; the chain never rejects. */
  #then(fn) {
    const r = this.#chain.then(fn);
    this.#chain = r.then(() => {}, () => {});
    return r;
  }

  async #start() {
    try {
      const loading = this.getAttribute('loading') ?? 'lazy';
      if (loading !== 'eager' && loading !== 'lazy') this.#fail(new Error(`loading="${loading}" is not one of lazy, eager`), 'attribute');
      if (loading !== 'eager') await afterPage();
      this.#wasm ??= compileWasm(); // meanwhile the model is fetched and the worker starts
      const src = this.getAttribute('model');
      let model = null;
      if (src !== null) {
        try { model = await fetchModel(src); } catch (err) { this.#refuseModel(src, err?.message ?? err); }
      }
      const w = moduleWorker();
      this.#engine = w ? new WorkerEngine(w) : new InlineEngine();
      this.stats.engine = this.#engine.kind;
      const stored = this.#consent === 'granted' ? this.#read() : null;
      const restoreError = await this.#then(() => this.#open(model, stored?.session ?? null, src));
      if (stored) this.#adopt(stored, true, restoreError);
      if (this.#consent === 'denied') await this.#then(() => this.#forgetNow());
      this.#ready = true;
      const st = this.#state;
      this.dispatchEvent(new CustomEvent('nextevent:ready', {
        bubbles: true, composed: true,
        detail: { threshold: st.threshold, restored: this.stats.restored, expired: this.stats.expired, atRisk: st.atRisk, stage: st.stage, engine: this.stats.engine, model: this.#info?.name ?? null },
      }));
      this.#releaseErrors();
      this.#drain();
    } catch (err) {
      this.#releaseErrors();
      this.#fail(err, 'model');
    }
  }
  #refuseModel(src, reason) {
    this.#fail(new Error(`model="${src}" was not loaded: ${reason}; the embedded model is used`), 'model');
  }

  /**
   * Opens the session in the engine: with the shop's model when given (refused → the embedded
   * one, with the reason), restored from `snapshot`; resolves to why the snapshot was refused,
   * or null. A worker that cannot start falls back to the page's thread.
   */
  async #open(model, snapshot, src = null) {
    const threshold = this.#threshold;
    for (;;) {
      try {
        const r = await this.#engine.request({ op: 'open', model, threshold, snapshot, wasm: await this.#wasm });
        [this.#state, this.#info, this.#ownModel] = [r.state, r.info, model !== null];
        return r.restoreError;
      } catch (err) {
        if (err instanceof Trap && err.startup && this.#engine.kind === 'worker') {
          this.#fail(new Error(`the model worker could not start (${err.message}); the model runs on the page's thread`), 'worker');
          this.#engine = new InlineEngine();
          this.stats.engine = this.#engine.kind;
          continue;
        }
        if (err instanceof Trap) throw err;
        if (model !== null) {
          this.#refuseModel(src, String(err?.message ?? err).replace(/^model was not loaded: /, ''));
          model = null;
          continue;
        }
        throw err;
      }
    }
  }

  /**
   * One request, and what a trap does: the dead worker is replaced by a fresh one with the
   * embedded model and the visit as it was before this request (its snapshot), until
   * MAX_RESTARTS; then the element stops predicting. Throws the Trap either way, so the caller
   * rejects what trapped.
   */
  async #call(msg) {
    if (!this.#engine) throw new Error('nextevent stopped');
    try {
      return await this.#engine.request(msg);
    } catch (err) {
      if (!(err instanceof Trap)) throw err;
      this.#engine.stop();
      this.#engine = null;
      const kind = this.stats.engine;
      if (kind !== 'worker' || this.stats.restarts >= MAX_RESTARTS) {
        this.#stop(`the model trapped (${err.message})${kind === 'worker' ? ` after ${MAX_RESTARTS} restarts` : ' on the page\'s thread, which cannot restart it'}; nextevent stopped predicting on this page`);
        throw err;
      }
      this.stats.restarts++;
      const which = this.#ownModel ? 'the embedded model (the shop\'s model trapped)' : 'the embedded model';
      const w = moduleWorker();
      if (!w) { this.#stop(`the model trapped (${err.message}) and no new worker could start`); throw err; }
      this.#engine = new WorkerEngine(w);
      try {
        await this.#open(null, this.#state?.snapshot ?? null);
      } catch (again) {
        this.#engine?.stop();
        this.#engine = null;
        this.#stop(`the model trapped (${err.message}) and the fresh worker failed too (${again?.message ?? again})`);
        throw err;
      }
      this.#fail(new Error(`the model trapped in its worker (${err.message}); restarted with ${which} (restart ${this.stats.restarts} of ${MAX_RESTARTS})`), 'worker');
      throw err;
    }
  }

  /** One request whose reply's state becomes the element's. */
  async #send(msg) {
    const r = await this.#call(msg);
    this.#state = r.state;
    return r;
  }

  #stop(message) {
    this.#stopped = true;
    for (const q of this.#queue.splice(0)) q.resolve?.(null);
    this.#fail(new Error(message), 'worker');
  }

  /** The stored record (parsed, not yet restored), or null; a malformed one is discarded with the reason. */
  #read() {
    let raw = null;
    try { raw = this.#storage?.getItem(STORAGE_KEY) ?? null; } catch { return null; }
    if (raw === null) return null;
    try { return parseStored(raw); } catch (err) { this.#discard(err); return null; }
  }

  #discard(err) {
    try { this.#storage?.removeItem(STORAGE_KEY); } catch { /* storage unavailable */ }
    this.#fail(new Error(`stored visit discarded: ${err?.message ?? err}`), 'storage');
  }

  /**
   * After the engine restored `stored.session` (or refused it: `restoreError`): checks that the
   * meta matches the kept events, starts over when the visit is stale, and adopts its ids.
   */
  #adopt(stored, initial, restoreError) {
    if (restoreError) { this.#discard(new Error(restoreError)); return false; }
    const st = this.#state;
    const bad = stored.meta.length !== st.history.length ? `meta does not match the ${st.history.length} kept events` : null;
    const last = st.history.at(-1);
    const stale = !bad && last && Date.now() - Date.parse(last.event_time) > SESSION_GAP_MS;
    if (bad || stale) {
      if (bad) this.#discard(new Error(bad)); else { try { this.#storage?.removeItem(STORAGE_KEY); } catch { /* unavailable */ } }
      if (stale && initial) this.stats.expired = true;
      this.#then(() => this.#forgetNow());
      return false;
    }
    this.#meta = stored.meta;
    this.#transactions = [...new Set([...stored.transactions, ...this.#transactions])].slice(-MAX_TRANSACTIONS);
    if (initial) this.stats.restored = st.observed;
    return true;
  }

  /** Replaces the session with a stored one (another tab's, or the stored visit once consent is given). Runs in the chain. */
  async #restore(raw, initial) {
    if (raw === null) return;
    let stored;
    try { stored = parseStored(raw); } catch (err) { this.#discard(err); return; }
    try {
      await this.#send({ op: 'restore', snapshot: stored.session });
    } catch (err) {
      if (!(err instanceof Trap)) this.#discard(err);
      return;
    }
    this.#adopt(stored, initial, null);
  }

  #save() {
    if (this.#consent !== 'granted' || !this.#state) return;
    try {
      this.#storage?.setItem(STORAGE_KEY, JSON.stringify({ v: 1, session: this.#state.snapshot, meta: this.#meta, transactions: this.#transactions }));
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
    if (name === 'threshold' && this.#ready && value !== null) {
      this.#then(() => this.#send({ op: 'threshold', value: Number(value) }).catch((err) => { if (!(err instanceof Trap)) this.#fail(err, 'attribute'); }));
    }
    if (name === 'consent') this.#consentChanged(value ?? 'granted');
  }

  #consentChanged(value) {
    if (value === 'denied') { this.#forget(); return; }
    if (value === 'granted' && this.#ready) {
      // The stored visit (from an earlier page where consent was given) comes first, then
      // what was queued on this page while consent was pending.
      if (this.#state?.observed === 0) {
        let raw = null;
        try { raw = this.#storage?.getItem(STORAGE_KEY) ?? null; } catch { /* unavailable */ }
        this.#then(() => this.#restore(raw, true));
      }
      this.#drain();
    }
  }

  /** Drops the queue and the session and erases the stored visit. */
  #forget() {
    for (const q of this.#queue.splice(0)) q.resolve?.(null);
    this.#meta = [];
    this.#transactions = [];
    try { window.sessionStorage.removeItem(STORAGE_KEY); window.localStorage.removeItem(STORAGE_KEY); } catch { /* unavailable */ }
    if (this.#ready) this.#then(() => this.#forgetNow());
  }
  async #forgetNow() {
    this.#meta = [];
    try { await this.#send({ op: 'clear' }); } catch { /* a trap is reported by #call */ }
  }

  /** Forgets this visit: the session, the queue and the stored history. */
  clear() { this.#forget(); }

  /**
   * Observes one event. Resolves to its outlook once it has been predicted — right away when
   * ready, or after the model has loaded (and consent is given) when it was queued — or to
   * null if it was rejected (nextevent:error says why), dropped (consent denied) or nextevent
   * stopped. Never rejects.
   */
  observe(event) {
    if (this.#consent === 'denied' || this.#stopped) return Promise.resolve(null);
    if (!this.#canObserve()) return new Promise((resolve) => this.#enqueue({ event, meta: null, resolve }));
    return this.#observe(event, null);
  }

  #canObserve() { return this.#ready && !this.#stopped && this.#consent === 'granted' && this.#queue.length === 0; }

  #enqueue(item) {
    if (this.#queue.length >= MAX_QUEUE) { this.stats.rejected++; this.#fail(new Error(`queue full (${MAX_QUEUE} entries): dropped`), 'queue'); item.resolve?.(null); return; }
    this.#queue.push(item);
    this.stats.queued++;
  }

  #drain() {
    if (!this.#ready || this.#consent !== 'granted') return;
    for (const q of this.#queue.splice(0)) {
      if (q.read) this.#commitRead(q.read, q.origin); else this.#observe(q.event, q.meta).then(q.resolve);
    }
  }

  /** Observes one event in the chain; resolves to the outlook or null. */
  #observe(event, meta) {
    return this.#then(async () => {
      if (this.#stopped) return null;
      try {
        // A gap longer than a session's starts a new visit, as in the training data.
        const last = this.#state.history.at(-1);
        const t = event?.event_time instanceof Date ? event.event_time.getTime() : typeof event?.event_time === 'number' ? event.event_time : Date.parse(event?.event_time);
        if (last && Number.isFinite(t) && t - Date.parse(last.event_time) > SESSION_GAP_MS) {
          await this.#send({ op: 'clear' });
          this.#meta = [];
        }
        const r = await this.#send({ op: 'observe', event });
        this.#meta.push(meta);
        const keep = r.state.history.length;
        if (this.#meta.length > keep) this.#meta.splice(0, this.#meta.length - keep);
        this.stats.observed++;
        this.#save();
        for (const { type, detail } of r.events) this.dispatchEvent(new CustomEvent(type, { bubbles: true, composed: true, detail }));
        return r.outlook;
      } catch (err) {
        this.stats.rejected++;
        // An event the worker cannot receive (a function or a DOM node in it) is named as such.
        if (err?.name === 'DataCloneError') this.#fail(new Error(`event: not plain data (${err.message})`), 'event');
        else if (!(err instanceof Trap)) this.#fail(err, 'event');
        return null;
      }
    });
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
    if (this.#consent === 'denied' || this.#stopped) return;
    if (!this.#canObserve()) { this.#enqueue({ read, origin }); return; }
    this.#commitRead(read, origin);
  }

  #commitRead(read, origin) {
    if (read.transaction) {
      if (this.#transactions.includes(read.transaction)) { this.stats.duplicates++; return; }
      this.#transactions = [...this.#transactions, read.transaction].slice(-MAX_TRANSACTIONS);
    }
    for (const { event, meta } of read.events) this.#observe(event, { ...meta, source: origin, ...(read.transaction ? { transaction: read.transaction } : {}) });
  }

  #attachDataLayer() {
    const dl = (window.dataLayer = window.dataLayer || []);
    if (this.#dataLayer?.array !== dl) {
      // Chain to whatever push is installed now (Array.prototype.push or a tag manager's); a
      // tag manager installed later wraps ours the same way and so still reaches it. Ours stays
      // in the chain for the element's life (it cannot be unwrapped from under a later one), and
      // reads only while the element is connected.
      const state = { array: dl, read: 0 };
      const previous = dl.push;
      const element = this;
      dl.push = function push(...args) {
        const r = previous.apply(this, args);
        if (element.#connected && element.#dataLayer === state) element.#readDataLayer();
        return r;
      };
      this.#dataLayer = state;
    }
    // Entries pushed while the element was out of the document are read now; none twice.
    this.#readDataLayer();
  }

  #readDataLayer() {
    const d = this.#dataLayer;
    // A page that empties its dataLayer has nothing new to read: start from its end.
    if (d.read > d.array.length) d.read = d.array.length;
    while (d.read < d.array.length) {
      const entry = d.array[d.read++];
      try { this.#ingestRead(readDataLayerEntry(entry), 'dataLayer'); } catch (err) { this.stats.rejected++; this.#fail(err, 'dataLayer'); }
    }
  }

  #attachSegment() {
    const a = window.analytics;
    // analytics.js (or its snippet's stub, which queues `on` until the library loads); when
    // it is blocked or absent nothing is attached and nothing breaks.
    if (!a || typeof a.on !== 'function') { this.#fail(new Error('source="segment": window.analytics is not on the page (load the Segment snippet before this element)'), 'segment'); return; }
    // analytics.js has no history to catch up from: a call made while the element is out of the
    // document is not observed, and is counted in stats.detached.
    if (this.#segment) return;
    this.#segment = true;
    try {
      a.on('track', (name, props) => {
        if (!this.#connected) { this.stats.detached++; return; }
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
    const declare = () => {
      for (const el of this.#scope?.querySelectorAll('[data-nextevent-view]') ?? []) {
        if (this.#declared.has(el)) continue;
        this.#declared.add(el);
        this.#ingestClick(el, 'view');
      }
    };
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
