// End-to-end: the element runs its model in a module Web Worker, under a strict CSP sent on
// every response (the worker script's own included); outlooks through the worker equal the
// main-thread API's; the main-thread fallback when workers are unavailable; a trap inside the
// worker is contained (a fresh worker, the embedded model, a restart cap); the shop's own model
// by URL, and refused ones; lazy loading after the page's load event; no request off the origin.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, launch, recordRequests, root } from './serve.mjs';

const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'";
const KINDS = ['view', 'cart', 'remove_from_cart', 'purchase'];

// A worker that is the real one (nextevent-engine.js's handler and its trap detection) except
// that chosen requests first run a genuine WebAssembly trap — `unreachable` in a one-function
// module, the same RuntimeError a tract panic raises under panic = "abort".
const trapWorker = (when) => `import { createHandler, listen } from './nextevent-engine.js';
const UNREACHABLE = new Uint8Array([0,97,115,109,1,0,0,0,1,4,1,96,0,0,3,2,1,0,7,5,1,1,102,0,0,10,5,1,3,0,0,11]);
const trap = new WebAssembly.Instance(new WebAssembly.Module(UNREACHABLE)).exports.f;
const handle = createHandler();
let shopModel = false;
listen(self, async (msg) => {
  if (msg.op === 'open') shopModel = Boolean(msg.model);
  if (msg.op === 'observe' && (${when})) trap();
  return handle(msg);
});
`;

let dir, server, browser;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nextevent-worker-'));
  symlinkSync(`${root}dist/embed`, join(dir, 'embed'));
  // Copies of the package whose worker traps: on every observe with the shop's model, or always.
  for (const [name, when] of [['embed-trap-shop', 'shopModel'], ['embed-trap-always', 'true']]) {
    mkdirSync(join(dir, name));
    for (const f of readdirSync(`${root}dist/embed`)) if (f !== 'nextevent-worker.js') symlinkSync(`${root}dist/embed/${f}`, join(dir, name, f));
    writeFileSync(join(dir, name, 'nextevent-worker.js'), trapWorker(when));
  }
  mkdirSync(join(dir, 'models'));
  symlinkSync(`${root}models/nextevent.fp32.onnx`, join(dir, 'models/shop.onnx'));
  const bad = `${root}target/bad-models`;
  const table = JSON.parse(readFileSync(`${bad}/index.json`, 'utf8'));
  for (const c of table) symlinkSync(`${bad}/${c.file}`, join(dir, 'models', `bad-${c.file}`));
  writeFileSync(join(dir, 'bad.json'), JSON.stringify(table));
  server = await serve(dir, { 'Content-Security-Policy': CSP });
  browser = await launch();
});
after(async () => { await browser?.close(); server?.stop(); });

/** A page with one element; `log` records its events, `problems` page errors and CSP violations. */
async function open(attrs, { pkg = 'embed', init = null } = {}) {
  const page = await browser.newPage();
  const requests = recordRequests(page);
  const problems = [];
  const workers = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e}`));
  page.on('worker', (w) => workers.push({ url: w.url(), at: Date.now() }));
  await page.addInitScript(() => {
    window.__log = [];
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(`${e.violatedDirective}: ${e.blockedURI}`));
    for (const n of ['nextevent:prediction', 'nextevent:churn-risk', 'nextevent:error', 'nextevent:ready']) addEventListener(n, (e) => window.__log.push({ type: n, detail: e.detail }));
    addEventListener('load', () => { window.__loadedAt = Date.now(); });
  });
  if (init) await page.addInitScript(init);
  writeFileSync(join(dir, 'page.html'), `<!doctype html><html><head><meta charset="utf-8"><title>t</title>
<script type="module" src="/${pkg}/next-event-predictor.js"></script></head>
<body><next-event-predictor ${attrs}></next-event-predictor><p>a shop page</p></body></html>`);
  const resp = await page.goto(`${server.url}page.html`);
  assert.equal(resp.headers()['content-security-policy'], CSP);
  await page.waitForFunction(() => window.__log.some((x) => x.type === 'nextevent:ready'), null, { timeout: 30_000 });
  return { page, requests, problems, workers, log: () => page.evaluate(() => window.__log) };
}

async function clean({ page, requests, problems }) {
  const violations = await page.evaluate(() => window.__violations);
  assert.deepEqual([...problems, ...violations], [], 'no page error, no CSP violation');
  assert.deepEqual(requests.filter((u) => !u.startsWith(server.url)), [], 'no request leaves the origin');
  await page.close();
}

const EVENTS = KINDS.slice(0, 3).flatMap((k, i) => [0, 1, 2].map((j) => ({
  event_type: j === 2 ? k : ['view', 'cart'][j], event_time: Date.UTC(2020, 0, 14, 10, 0, i * 30 + j * 7),
  product_id: 5802432 + j, brand: j ? 'runail' : 'irisk', price: 4.05 + j,
})));

/** Observes `events` one after another through the page's element: `{out, stats, state}`. */
function viaElement(page, events) {
  return page.evaluate(async (events) => {
    const el = document.querySelector('next-event-predictor');
    const out = [];
    for (const e of events) out.push(await el.observe(e));
    return { out, stats: el.stats, state: await el.sessionState() };
  }, events);
}

/** The outlooks of `events` from the JS API on the page's thread, with `model` (a URL) or the embedded one. */
function viaApi(page, events, model = null) {
  return page.evaluate(async ([events, model]) => {
    const m = await import(document.querySelector('script[type=module]').src);
    await m.ready();
    const bytes = model ? new Uint8Array(await (await fetch(model)).arrayBuffer()) : null;
    const s = new m.Session({ target: null, ...(bytes ? { model: bytes } : {}) });
    return events.map((e) => s.observe(e));
  }, [events, model]);
}

/** EVENTS through the element and through the API with `model` (a URL or null). */
async function both(page, events, model = null) {
  const { out, state } = await viaElement(page, events);
  return { viaElement: out, viaApi: await viaApi(page, events, model), state };
}

function assertSame(a, b, what) {
  assert.equal(a.length, b.length, what);
  let worst = 0;
  a.forEach((x, i) => {
    assert.ok(x, `${what}: event ${i} predicted`);
    for (const k of KINDS) worst = Math.max(worst, Math.abs(x.probabilities[k] - b[i].probabilities[k]));
    worst = Math.max(worst, Math.abs((x.conversion ?? 0) - (b[i].conversion ?? 0)));
    assert.equal(x.churnRisk, b[i].churnRisk, `${what}: event ${i}`);
    assert.equal(x.stage, b[i].stage, `${what}: event ${i}`);
  });
  assert.ok(worst <= 1e-6, `${what}: worst difference ${worst}`);
}

test('worker: outlooks through the module worker equal the main-thread API, under a strict CSP, loaded after the page', async () => {
  const p = await open('storage="none"');
  const ready = (await p.log()).find((x) => x.type === 'nextevent:ready').detail;
  assert.equal(ready.engine, 'worker');
  assert.equal(p.workers.length, 1);
  assert.match(p.workers[0].url, /\/embed\/nextevent-worker\.js$/);
  // loading="lazy" (the default): the worker starts after the page's load event.
  const loadedAt = await p.page.evaluate(() => window.__loadedAt);
  assert.ok(p.workers[0].at >= loadedAt, `worker started ${p.workers[0].at - loadedAt} ms after load`);
  // The page compiled the wasm and posted the module: the page fetched it (a worker's own
  // fetches are not in the page's resource timeline).
  assert.equal(await wasmFetchesOfThePage(p.page), 1);
  const { viaElement, viaApi, state } = await both(p.page, EVENTS);
  assertSame(viaElement, viaApi, 'worker vs API');
  assert.equal(state.observed, EVENTS.length);
  assert.equal(state.engine, 'worker');
  assert.deepEqual(state.history.map((e) => e.event_type), EVENTS.map((e) => e.event_type));
  const preds = (await p.log()).filter((x) => x.type === 'nextevent:prediction');
  assert.equal(preds.length, EVENTS.length, 'one nextevent:prediction per event, re-dispatched on the page');
  assert.deepEqual(preds.map((x) => x.detail.observed), EVENTS.map((_, i) => i + 1));
  // Bad input is rejected by the worker with the API's message; the element keeps going.
  const bad = await p.page.evaluate(async () => {
    const el = document.querySelector('next-event-predictor');
    const r = [await el.observe({ event_type: 'fly', event_time: Date.now(), product_id: 1, price: 1 }),
      await el.observe({ event_type: 'view', event_time: Date.now(), product_id: 1, price: NaN }),
      await el.observe({ event_type: 'view', event_time: Date.now(), product_id: 1, price: 1, f: () => 1 })];
    return { r, stats: el.stats };
  });
  assert.deepEqual(bad.r, [null, null, null]);
  assert.equal(bad.stats.rejected, 3);
  const errors = (await p.log()).filter((x) => x.type === 'nextevent:error').map((x) => x.detail.message);
  assert.match(errors[0], /event_type/);
  assert.match(errors[1], /NaN/);
  assert.match(errors[2], /not plain data/);
  await clean(p);
});

const wasmFetchesOfThePage = (page) => page.evaluate(() => performance.getEntriesByType('resource').filter((e) => e.name.endsWith('/nextevent_bg.wasm')).length);

test('worker: where the page cannot compile the wasm, the worker loads it itself and predicts the same', async () => {
  const p = await open('storage="none" loading="eager"', { init: () => { WebAssembly.compileStreaming = () => Promise.reject(new TypeError('blocked for the test')); } });
  assert.equal((await p.log()).find((x) => x.type === 'nextevent:ready').detail.engine, 'worker');
  assert.equal(await wasmFetchesOfThePage(p.page), 1, 'the page fetched it, failed to compile it, and left it to the worker');
  const { viaElement, viaApi } = await both(p.page, EVENTS);
  assertSame(viaElement, viaApi, 'worker (its own wasm) vs API');
  await clean(p);
});

test('worker: with workers unavailable the model runs on the page\'s thread and predicts the same', async () => {
  const p = await open('storage="none" loading="eager"', { init: () => { delete window.Worker; } });
  const ready = (await p.log()).find((x) => x.type === 'nextevent:ready').detail;
  assert.equal(ready.engine, 'main-thread');
  assert.equal(p.workers.length, 0);
  const { viaElement, viaApi } = await both(p.page, EVENTS);
  assertSame(viaElement, viaApi, 'main thread vs API');
  await clean(p);
});

test('worker: the shop\'s own model by URL predicts as the API does with its bytes', async () => {
  const p = await open('storage="none" model="/models/shop.onnx"');
  const log = await p.log();
  assert.deepEqual(log.filter((x) => x.type === 'nextevent:error'), []);
  const ready = log.find((x) => x.type === 'nextevent:ready').detail;
  assert.equal(ready.engine, 'worker');
  const { viaElement, viaApi, state } = await both(p.page, EVENTS, '/models/shop.onnx');
  assertSame(viaElement, viaApi, 'shop model: worker vs API');
  // It is not the embedded model: the fp32 export predicts (slightly) differently.
  const embedded = await both(p.page, EVENTS.slice(0, 1));
  assert.notEqual(viaElement[0].probabilities.view, embedded.viaApi[0].probabilities.view);
  assert.equal(state.model, ready.model);
  await clean(p);
});

test('worker: a refused model by URL keeps the embedded model, with the demo\'s refusal reason', async () => {
  const table = JSON.parse(readFileSync(join(dir, 'bad.json'), 'utf8'));
  const cases = table.filter((c) => ['GRU without initial_h', 'random bytes', 'opset 17', 'NaN weight'].includes(c.name))
    .map((c) => [`/models/bad-${c.file}`, c.want])
    .concat([['/models/missing.onnx', 'HTTP 404'], ['http://localhost:1/shop.onnx', "not on this page's origin"]]);
  assert.equal(cases.length, 6);
  for (const [url, want] of cases) {
    const p = await open(`storage="none" loading="eager" model="${url}"`);
    const log = await p.log();
    const errors = log.filter((x) => x.type === 'nextevent:error').map((x) => x.detail);
    assert.equal(errors.length, 1, `${url}: ${JSON.stringify(errors)}`);
    assert.equal(errors[0].source, 'model');
    assert.ok(errors[0].message.startsWith(`model="${url}" was not loaded: `) && errors[0].message.includes(want) && errors[0].message.endsWith('the embedded model is used'), `${url}: ${errors[0].message}`);
    const { viaElement, viaApi } = await both(p.page, EVENTS.slice(0, 4));
    assertSame(viaElement, viaApi, `${url}: the embedded model predicts`);
    await clean(p);
  }
});

test('worker: a trap inside the worker is contained: a fresh worker, the embedded model, the visit kept', async () => {
  const p = await open('storage="none" model="/models/shop.onnx"', { pkg: 'embed-trap-shop' });
  const r = await viaElement(p.page, EVENTS.slice(0, 4));
  // The first event trapped (shop model); the worker was replaced by one with the embedded model.
  assert.equal(r.out[0], null);
  assert.ok(r.out.slice(1).every(Boolean));
  assert.equal(r.stats.restarts, 1);
  assert.equal(r.stats.rejected, 1);
  assert.equal(r.state.engine, 'worker');
  const errors = (await p.log()).filter((x) => x.type === 'nextevent:error').map((x) => x.detail);
  assert.equal(errors.length, 1);
  assert.equal(errors[0].source, 'worker');
  assert.match(errors[0].message, /trapped in its worker \(RuntimeError: unreachable\); restarted with the embedded model .*\(restart 1 of 3\)/);
  assert.equal(p.workers.length, 2, 'one fresh worker');
  // What it predicts now is the embedded model's outlook for the events it kept.
  const api = await viaApi(p.page, EVENTS.slice(1, 4));
  assertSame(r.out.slice(1), api, 'after the trap');
  assert.deepEqual(r.state.history.map((e) => e.product_id), EVENTS.slice(1, 4).map((e) => e.product_id), 'the trapped event is not kept');
  await clean(p);
});

test('worker: the restart cap holds: a history that keeps trapping stops nextevent, not the page', async () => {
  const p = await open('storage="none"', { pkg: 'embed-trap-always' });
  const r = await viaElement(p.page, EVENTS.slice(0, 6));
  // The page itself still runs.
  const alive = await p.page.evaluate(() => { document.body.insertAdjacentHTML('beforeend', '<p id="alive">still here</p>'); return document.getElementById('alive').textContent; });
  assert.deepEqual(r.out, [null, null, null, null, null, null]);
  assert.equal(r.stats.restarts, 3);
  assert.equal(alive, 'still here');
  const errors = (await p.log()).filter((x) => x.type === 'nextevent:error').map((x) => x.detail.message);
  assert.equal(errors.length, 4, errors.join('\n'));
  assert.match(errors[2], /restart 3 of 3/);
  assert.match(errors[3], /after 3 restarts; nextevent stopped predicting on this page/);
  assert.equal(p.workers.length, 4, 'the first worker and three restarts, no more');
  await clean(p);
});
