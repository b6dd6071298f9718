// The model side of <next-event-predictor>: one Session and its requests, run in the module
// worker (nextevent-worker.js) or, where module workers are unavailable, on the page's thread.
// Both run this same code, so an outlook through the worker is the main-thread API's outlook.
//
// Requests are plain objects (structured-cloneable); every reply carries the session's state
// (its kept events, counts, stage, risk state and snapshot string), which the element caches
// so its synchronous `history` and its storage stay on the page's thread (Web Storage does
// not exist in workers).
import init, { Session } from './nextevent.js';

/**
 * A request handler: `handle({op, ...})` resolves to a reply object or throws. Ops:
 * - `open {model, threshold, snapshot, wasm}`: a new session with `model` (bytes, or null for the
 *   embedded one), restored from `snapshot` when given; replies `{state, info, restoreError}`
 *   (a refused snapshot is not fatal: the session starts empty and says why). `wasm`, when
 *   given on the first request, is the compiled nextevent_bg.wasm to instantiate.
 * - `observe {event}`: `{outlook, events: [{type, detail}], state}` (the `nextevent:*` events
 *   the session dispatched, for the element to re-dispatch on the page).
 * - `restore {snapshot}`, `threshold {value}`, `clear`: `{state}`.
 */
export function createHandler() {
  let loading = null;
  let session = null;
  let options = null;
  let events = [];
  const target = new EventTarget();
  for (const type of ['nextevent:prediction', 'nextevent:churn-risk']) {
    target.addEventListener(type, (e) => events.push({ type, detail: e.detail }));
  }
  const state = () => ({
    history: session.history, observed: session.observed, atRisk: session.atRisk,
    stage: session.stage, threshold: session.threshold ?? null, snapshot: session.snapshot(),
  });
  const need = () => { if (!session) throw new Error('no session: open one first'); };

  return async function handle(msg) {
    // The first request may carry the page's compiled WebAssembly.Module (see the element).
    loading ??= init(msg?.wasm instanceof WebAssembly.Module ? { module_or_path: msg.wasm } : undefined);
    await loading;
    switch (msg?.op) {
      case 'open': {
        const next = { target, ...(msg.model ? { model: msg.model } : {}), ...(msg.threshold == null ? {} : { threshold: msg.threshold }) };
        const fresh = new Session(next); // a refused model or threshold throws here, before anything is replaced
        session?.free();
        [session, options] = [fresh, next];
        let restoreError = null;
        if (msg.snapshot != null) {
          try { const r = Session.restore(msg.snapshot, options); session.free(); session = r; } catch (err) { restoreError = String(err?.message ?? err); }
        }
        return { state: state(), info: session.info, restoreError };
      }
      case 'observe': {
        need();
        events = [];
        const outlook = session.observe(msg.event);
        return { outlook, events: events.splice(0), state: state() };
      }
      case 'restore': {
        need();
        const r = Session.restore(msg.snapshot, options);
        session.free();
        session = r;
        return { state: state() };
      }
      case 'threshold': need(); session.setThreshold(msg.value); return { state: state() };
      case 'clear': need(); session.clear(); return { state: state() };
      default: throw new Error(`unknown request ${JSON.stringify(msg?.op)}`);
    }
  };
}

/** `"RuntimeError: …"` for a WebAssembly trap (the instance is dead after it), else null. */
export function trapMessage(err) {
  return err instanceof WebAssembly.RuntimeError ? `${err.name}: ${err.message}` : null;
}

/**
 * Serves `handle` on a worker scope: each `{id, ...request}` message gets `{id, reply}`,
 * `{id, error}` (a refused input: the session is unchanged) or `{id, trap}` — a
 * `WebAssembly.RuntimeError` (a panic aborts the instance, so it cannot be used again); the
 * element then terminates this worker and starts a fresh one.
 */
export function listen(scope, handle) {
  scope.addEventListener('message', async (e) => {
    const { id, ...msg } = e.data ?? {};
    try {
      scope.postMessage({ id, reply: await handle(msg) });
    } catch (err) {
      const trap = trapMessage(err);
      scope.postMessage(trap === null ? { id, error: String(err?.message ?? err) } : { id, trap });
    }
  });
  scope.postMessage({ id: 0, reply: { listening: true } });
}
