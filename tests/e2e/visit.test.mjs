// End-to-end: a whole visit across the pages of the multi-page example shop (dist/shop/), fed
// by its GA4 dataLayer pushes, and the element's sources (dataLayer, Segment, clicks),
// storage and consent on blank pages — all in headless Chromium, served from 127.0.0.1.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, serveDist, recordRequests, root, shots } from './serve.mjs';

const ctx = serveDist(before, after);
const KEY = 'nextevent:visit:v1';
const KINDS = ['view', 'cart', 'remove_from_cart', 'purchase'];

/** A page whose nextevent events (every navigation) are recorded on the Node side. */
async function shopper() {
  const context = await ctx.browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const log = [];
  const errors = [];
  const requests = recordRequests(page);
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.exposeBinding('__record', ({ frame }, type, detail) => { const u = new URL(frame.url()); log.push({ type, detail, page: u.pathname + u.search }); });
  await page.addInitScript(() => {
    for (const n of ['nextevent:prediction', 'nextevent:churn-risk', 'nextevent:error', 'nextevent:ready']) addEventListener(n, (e) => window.__record(n, e.detail));
  });
  return { context, page, log, errors, requests };
}

const predictions = (log) => log.filter((e) => e.type === 'nextevent:prediction').map((e) => e.detail);

/** Goes to a shop page and waits until the element is ready and `n` predictions were made in all. */
async function visit(s, path, n) {
  await s.page.goto(`${ctx.server.url}shop/${path}`);
  await s.page.locator('#status[data-ready=true]').waitFor();
  await waitFor(s, n);
}
async function waitFor(s, n) {
  const deadline = Date.now() + 20_000;
  while (predictions(s.log).length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.equal(predictions(s.log).length, n, `${n} predictions so far: ${JSON.stringify(s.log.map((e) => [e.type, e.page, e.detail?.message]))}`);
}
const productPath = (p) => `product.html?id=${p.product_id}`;

test('visit: a shopper walks ten pages; the history spans them, equals a one-page replay, and churn risk fires once per crossing', async () => {
  const s = await shopper();
  const { page } = s;
  // The README's second screenshot: the first page that shows the offer banner.
  let shot = false;
  const offerShot = async () => { if (!shot && await page.locator('#offer').isVisible()) { shot = true; await page.screenshot({ path: `${shots}/shop-2-offer.png` }); } };
  await visit(s, '', 0); // catalogue: view_item_list and page_view are ignored, not observed
  const products = await page.evaluate(() => window.LUMEN_PRODUCTS);
  assert.ok(products.length >= 8);
  const [a, b, c, d, e] = products;
  const ignored = await page.evaluate(() => document.querySelector('next-event-predictor').stats.ignored);
  assert.deepEqual(ignored, { page_view: 1, view_item_list: 1 });

  await visit(s, productPath(a), 1); // the view is observed on load
  await page.locator('#add').click();
  await waitFor(s, 2);
  await page.screenshot({ path: `${shots}/shop-1-product.png` });
  await visit(s, 'cart.html', 2);
  await page.getByRole('button', { name: /^Remove/ }).first().click();
  await waitFor(s, 3);
  assert.equal(predictions(s.log).at(-1).stage, 'cart_emptied');
  await offerShot();
  await visit(s, productPath(b), 4);
  await offerShot();
  await visit(s, productPath(c), 5);
  await offerShot();
  await visit(s, productPath(d), 6);
  await offerShot();
  const risks = () => s.log.filter((x) => x.type === 'nextevent:churn-risk');
  assert.ok(risks().length >= 1, 'an emptied cart followed by browsing crosses into risk');
  const crossedOn = risks().map((r) => r.page);
  const offer = page.locator('#offer');
  assert.equal(await offer.isVisible(), predictions(s.log).at(-1).churnRisk, 'the offer banner shows while the visit is at risk');
  const atRiskBefore = predictions(s.log).at(-1).churnRisk;
  const firedBefore = risks().length;
  await visit(s, productPath(e), 7);
  const ready = s.log.filter((x) => x.type === 'nextevent:ready').at(-1).detail;
  assert.equal(ready.restored, 6, 'the next page restores the six events');
  await offerShot();
  assert.equal(ready.atRisk, atRiskBefore, 'and the risk state with them');
  if (atRiskBefore && predictions(s.log).at(-1).churnRisk) assert.equal(risks().length, firedBefore, 'a navigation while at risk is not a new crossing');
  await page.locator('#add').click();
  await waitFor(s, 8);
  await visit(s, 'cart.html', 8);
  await page.locator('#to-checkout').click();
  await page.locator('#status[data-ready=true]').waitFor();
  await page.locator('#place').click();
  await page.waitForURL(/confirmation\.html/);
  await page.locator('#status[data-ready=true]').waitFor();
  await waitFor(s, 9);
  await page.screenshot({ path: `${shots}/shop-3-confirmation.png` });
  assert.ok(shot, 'the offer banner was shown on some page');
  const bought = predictions(s.log).at(-1);
  assert.equal(bought.event.event_type, 'purchase');
  assert.equal(bought.stage, 'purchased');
  assert.equal(bought.churnRisk, false);

  // Reloading the confirmation page pushes the purchase again; it is counted once.
  await page.reload();
  await page.locator('#status[data-ready=true]').waitFor();
  await page.waitForFunction(() => document.querySelector('next-event-predictor').stats.duplicates === 1);
  const stats = await page.evaluate(() => document.querySelector('next-event-predictor').stats);
  assert.equal(stats.observed, 0, 'nothing new observed on the reload');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(predictions(s.log).length, 9);

  // The history spans the pages; the original item ids are kept.
  const history = await page.evaluate(() => document.querySelector('next-event-predictor').history);
  assert.deepEqual(history.map((x) => x.event_type), ['view', 'cart', 'remove_from_cart', 'view', 'view', 'view', 'view', 'cart', 'purchase']);
  assert.deepEqual(history.map((x) => x.product_id), [a, a, a, b, c, d, e, e, e].map((p) => p.product_id));
  assert.ok(history.every((x) => x.item_id === String(x.product_id) && x.source === 'dataLayer'));
  const pages = new Set(s.log.filter((x) => x.type === 'nextevent:prediction').map((x) => x.page));
  assert.ok(pages.size >= 5, `predictions made on ${pages.size} distinct pages`);

  // The same events replayed in one Session on one page give the same outlooks.
  const replay = await page.evaluate(async (events) => {
    const { Session, ready } = await import('/embed/next-event-predictor.js');
    await ready(); // the element's model is in its worker; this page's thread loads its own
    const one = new Session({ target: null });
    return events.map((ev) => one.observe(ev));
  }, history.map(({ item_id, quantity, source, transaction, ...ev }) => ev));
  const walked = predictions(s.log);
  let worst = 0;
  walked.forEach((w, i) => {
    for (const k of KINDS) worst = Math.max(worst, Math.abs(w.probabilities[k] - replay[i].probabilities[k]));
    worst = Math.max(worst, Math.abs(w.conversion - replay[i].conversion));
    assert.equal(w.churnRisk, replay[i].churnRisk, `event ${i}`);
    assert.equal(w.stage, replay[i].stage, `event ${i}`);
  });
  // Fired exactly on the predictions that cross from not-at-risk into risk, across pages.
  const firedAfter = [];
  let k = -1;
  for (const x of s.log) { if (x.type === 'nextevent:prediction') k++; if (x.type === 'nextevent:churn-risk') firedAfter.push(k); }
  const crossings = walked.flatMap((w, i) => (w.churnRisk && !(i > 0 && walked[i - 1].churnRisk) ? [i] : []));
  assert.deepEqual(firedAfter, crossings, 'once per crossing, not once per page');
  console.log('risk per event:', walked.map((w) => `${w.event.event_type}:${w.churnRisk ? 'risk' : 'ok'}`).join(' '));
  console.log(`multi-page walk: ${walked.length} events on ${pages.size} pages; max |Δ| vs one-page replay ${worst.toExponential(2)}; risk crossed on ${crossedOn}`);
  assert.ok(worst <= 1e-6, `max |Δ| ${worst}`);
  assert.deepEqual(s.errors, []);
  assert.deepEqual(s.log.filter((x) => x.type === 'nextevent:error'), []);
  assert.deepEqual(s.requests.filter((u) => !u.startsWith(ctx.server.url) && !u.startsWith('data:')), [], 'no request leaves 127.0.0.1');
  await s.context.close();
});

test('visit: a stored visit older than the 30-minute gap starts a new visit', async () => {
  const s = await shopper();
  await s.page.clock.install({ time: new Date('2026-03-02T10:00:00Z') });
  const products = JSON.parse(await (await fetch(`${ctx.server.url}shop/products.json`)).text());
  await visit(s, productPath(products[0]), 1);
  await visit(s, productPath(products[1]), 2);
  assert.equal(s.log.filter((x) => x.type === 'nextevent:ready').at(-1).detail.restored, 1);
  await s.page.clock.setSystemTime(new Date('2026-03-02T10:31:00Z'));
  await visit(s, productPath(products[2]), 3);
  const ready = s.log.filter((x) => x.type === 'nextevent:ready').at(-1).detail;
  assert.equal(ready.restored, 0);
  assert.equal(ready.expired, true);
  assert.equal(predictions(s.log).at(-1).observed, 1, 'the view starts a new visit');
  await s.context.close();
});

test('visit: tampered or corrupt storage is discarded with nextevent:error naming why, never a throw', async () => {
  const s = await shopper();
  const products = JSON.parse(await (await fetch(`${ctx.server.url}shop/products.json`)).text());
  await visit(s, productPath(products[0]), 1);
  const good = await s.page.evaluate((k) => sessionStorage.getItem(k), KEY);
  const rec = JSON.parse(good);
  const snap = JSON.parse(rec.session);
  const cases = {
    'not JSON': '{oops',
    'another version': JSON.stringify({ ...rec, v: 99 }),
    'a negative price': JSON.stringify({ ...rec, session: JSON.stringify({ ...snap, events: [{ ...snap.events[0], price: -3 }] }) }),
    'an unknown event type': JSON.stringify({ ...rec, session: rec.session.replace('"view"', '"teleport"') }),
    'more events observed than kept, reversed': JSON.stringify({ ...rec, session: JSON.stringify({ ...snap, observed: 0 }) }),
    'meta not matching': JSON.stringify({ ...rec, meta: [] }),
    'a session that is not a string': JSON.stringify({ ...rec, session: 5 }),
  };
  let n = 1;
  for (const [what, value] of Object.entries(cases)) {
    await s.page.evaluate(([k, v]) => sessionStorage.setItem(k, v), [KEY, value]);
    const before = s.log.length;
    await visit(s, productPath(products[1]), ++n);
    const errs = s.log.slice(before).filter((x) => x.type === 'nextevent:error');
    assert.equal(errs.length, 1, `${what}: one error`);
    assert.equal(errs[0].detail.source, 'storage', what);
    assert.match(errs[0].detail.message, /^stored visit discarded: /, what);
    const ready = s.log.slice(before).find((x) => x.type === 'nextevent:ready').detail;
    assert.equal(ready.restored, 0, `${what}: a new visit`);
    assert.equal(predictions(s.log).at(-1).observed, 1, `${what}: the page still predicts`);
    console.log(`tampered storage (${what}): ${errs[0].detail.message}`);
  }
  assert.deepEqual(s.errors, [], 'no page error');
  await s.context.close();
});

/** A blank page with the embed package: `head` runs before the element script, `body` after. */
async function blank(head, body, attrs) {
  const dir = mkdtempSync(join(tmpdir(), 'nextevent-visit-'));
  symlinkSync(`${root}dist/embed`, join(dir, 'embed'));
  writeFileSync(join(dir, 'head.js'), head);
  writeFileSync(join(dir, 'body.js'), body);
  writeFileSync(join(dir, 'index.html'), `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>t</title>\n<script src="head.js"></script>\n<script type="module" src="embed/next-event-predictor.js"></script>\n<script type="module" src="body.js"></script></head>\n<body><next-event-predictor ${attrs}></next-event-predictor></body></html>\n`);
  const server = await serve(dir);
  const s = await shopper();
  await s.page.goto(server.url);
  await s.page.waitForFunction(() => window.__done === true, null, { timeout: 20_000 });
  // Observing is asynchronous (the model is in a worker): wait until what was pushed is predicted.
  await s.page.evaluate(() => document.querySelector('next-event-predictor').sessionState());
  return { ...s, server, el: (f) => s.page.evaluate(f) };
}

const ga4 = (event, items, extra = {}) => ({ event, ecommerce: { currency: 'USD', items, ...extra } });

test('visit: dataLayer — pushes before and after load, gtag-style arguments, string ids and prices, tag managers either side, malformed and unknown events', async () => {
  const head = `
    window.dataLayer = window.dataLayer || [];
    function gtag() { dataLayer.push(arguments); }
    // A tag manager that installed its push wrapper before nextevent.
    window.__gtm = 0;
    { const prev = dataLayer.push; dataLayer.push = function () { window.__gtm++; return prev.apply(dataLayer, arguments); }; }
    const deep = (o) => { Object.values(o).forEach((v) => v && typeof v === 'object' && deep(v)); return Object.freeze(o); };
    window.__ga4 = ${ga4.toString()};
    dataLayer.push(deep(__ga4('view_item', [{ item_id: 'SKU_12345', item_brand: 'Lumen', price: '11.99', item_category: 'beauty', item_category2: 'nails' }])));
    dataLayer.push({ ecommerce: null });
    gtag('event', 'add_to_cart', { items: [{ item_id: 'SKU_12345', item_brand: 'Lumen', price: 11.99, quantity: 3 }] });
    dataLayer.push({ event: 'select_promotion' });
    dataLayer.push({ event: 'add_to_cart', ecommerce: { items: [{ item_id: 'Z', price: NaN }] } }); // malformed, before load
  `;
  const body = `
    const el = document.querySelector('next-event-predictor');
    // The page's own listener, attached after the element module ran: it still hears the
    // error of the malformed push made before the script loaded.
    window.__pageErrors = [];
    addEventListener('nextevent:error', (e) => window.__pageErrors.push(e.detail.message));
    // A tag manager that installs its wrapper after nextevent (and chains, as GTM's does).
    { const prev = dataLayer.push; dataLayer.push = function () { window.__gtm++; return prev.apply(dataLayer, arguments); }; }
    el.addEventListener('nextevent:ready', () => {
      dataLayer.push(Object.freeze(__ga4('remove_from_cart', [Object.freeze({ item_id: 5802432, price: 4.05, item_brand: 'runail' })])));
      dataLayer.push(__ga4('add_to_cart', []));
      dataLayer.push(__ga4('add_to_cart', [{ item_id: 'X', price: 'eleven' }]));
      dataLayer.push({ event: 'purchase', ecommerce: { transaction_id: 'T1', items: [{ item_id: 'A1', price: 2 }, { item_id: 'A2', price: '3.50' }] } });
      dataLayer.push({ event: 'purchase', ecommerce: { transaction_id: 'T1', items: [{ item_id: 'A1', price: 2 }, { item_id: 'A2', price: '3.50' }] } });
      gtag('event', 'page_view');
      window.__done = true;
    });
  `;
  const s = await blank(head, body, 'source="dataLayer"');
  try {
    const history = await s.el(() => document.querySelector('next-event-predictor').history);
    assert.deepEqual(history.map((x) => x.event_type), ['view', 'cart', 'remove_from_cart', 'purchase', 'purchase']);
    const [v, c, r] = history;
    assert.equal(v.item_id, 'SKU_12345');
    assert.equal(v.product_id, c.product_id, 'one stable id for one SKU');
    assert.ok(v.product_id >= 2 ** 52 && v.product_id < 2 ** 53, 'a hashed id never equals a numeric one');
    assert.ok(Math.abs(v.price - 11.99) < 1e-5, 'a string price is read');
    assert.equal(v.brand, 'lumen');
    assert.equal(v.category_code, 'beauty.nails');
    assert.equal(c.quantity, 3, 'quantity 3 is one cart event that keeps its quantity');
    assert.equal(r.product_id, 5802432, 'numeric ids are used as they are');
    const stats = await s.el(() => document.querySelector('next-event-predictor').stats);
    assert.deepEqual(stats.ignored, { select_promotion: 1, page_view: 1 });
    assert.equal(stats.rejected, 3);
    assert.equal(stats.duplicates, 1);
    assert.equal(stats.observed, 5);
    const errs = s.log.filter((x) => x.type === 'nextevent:error').map((x) => x.detail.message);
    const want = ['dataLayer add_to_cart items[0].price: NaN is not a number', 'dataLayer add_to_cart: no ecommerce.items', 'dataLayer add_to_cart items[0].price: "eleven" is not a number'];
    assert.deepEqual(errs, want);
    assert.deepEqual(await s.el(() => window.__pageErrors), want, 'the page hears errors from before it listened');
    assert.equal(await s.el(() => window.__gtm), 5 + 6 * 2, 'both tag managers saw every push made through them');
    assert.deepEqual(s.errors, [], 'frozen pushes were not mutated');
  } finally { await s.context.close(); s.server.stop(); }
});

test('visit: Segment track calls (and analytics.js blocked) feed the same history', async () => {
  // analytics.js's documented listener: analytics.on('track', (event, properties, options) => …).
  const head = `
    window.analytics = { listeners: [], on(name, fn) { if (name === 'track') this.listeners.push(fn); },
      track(event, props) { for (const f of this.listeners) f(event, props, {}); } };
  `;
  const body = `
    document.querySelector('next-event-predictor').addEventListener('nextevent:ready', () => {
      analytics.track('Product Viewed', { product_id: '507f1f77bcf86cd799439011', sku: 'G-32', price: 18.99, brand: 'Lumen', category: 'nails' });
      analytics.track('Product Added', { product_id: '507f1f77bcf86cd799439011', price: '18.99', quantity: 2 });
      analytics.track('Checkout Started', { value: 18.99 });
      analytics.track('Product Removed', { product_id: 'G-33' });
      analytics.track('Order Completed', { order_id: '50314b8e', products: [{ product_id: '507f1f77bcf86cd799439011', price: 18.99 }, { product_id: 5802432, price: 4.05 }] });
      analytics.track('Order Completed', { order_id: '50314b8e', products: [{ product_id: 5802432, price: 4.05 }] });
      window.__done = true;
    });
  `;
  const s = await blank(head, body, 'source="segment"');
  try {
    const history = await s.el(() => document.querySelector('next-event-predictor').history);
    assert.deepEqual(history.map((x) => x.event_type), ['view', 'cart', 'purchase', 'purchase']);
    assert.equal(history[0].product_id, history[1].product_id);
    assert.equal(history[0].category_code, 'nails');
    const stats = await s.el(() => document.querySelector('next-event-predictor').stats);
    assert.deepEqual(stats.ignored, { 'Checkout Started': 1 });
    assert.equal(stats.duplicates, 1);
    const errs = s.log.filter((x) => x.type === 'nextevent:error').map((x) => x.detail.message);
    assert.deepEqual(errs, ['segment Product Removed.price: undefined is not a number']);
  } finally { await s.context.close(); s.server.stop(); }

  // Blocked: the snippet's stub queues calls that never run; clicks still work, nothing throws.
  const stub = `window.analytics = []; for (const m of ['track', 'on', 'page']) analytics[m] = (...a) => { analytics.push([m, ...a]); return analytics; };`;
  const b = await blank(stub, `
    document.body.insertAdjacentHTML('beforeend', '<button data-nextevent-type="view" data-nextevent-product="5802432" data-nextevent-price="4.05">v</button>');
    document.querySelector('next-event-predictor').addEventListener('nextevent:ready', () => { analytics.track('Product Viewed', { product_id: 1, price: 1 }); window.__done = true; });
  `, 'source="segment clicks"');
  try {
    await b.page.locator('button').click();
    await waitFor(b, 1);
    assert.deepEqual(b.errors, []);
    assert.deepEqual(b.log.filter((x) => x.type === 'nextevent:error'), []);
  } finally { await b.context.close(); b.server.stop(); }
});

test('visit: moving the element in the page reads nothing twice; dataLayer entries pushed while it was out are read when it is back', async () => {
  const head = `
    window.dataLayer = [${JSON.stringify(ga4('view_item', [{ item_id: 5802432, price: 4.05, item_brand: 'runail' }]))}];
    window.analytics = { listeners: [], on(name, fn) { if (name === 'track') this.listeners.push(fn); },
      track(event, props) { for (const f of this.listeners) f(event, props, {}); } };
  `;
  const body = `
    const el = document.querySelector('next-event-predictor');
    el.addEventListener('nextevent:ready', async () => {
      document.body.insertAdjacentHTML('afterbegin', '<div data-nextevent-view data-nextevent-product="5802433" data-nextevent-price="5.5"></div>');
      document.body.append(el); // moved: disconnected and connected again
      document.body.prepend(el); // and once more
      el.remove();
      dataLayer.push(${JSON.stringify(ga4('add_to_cart', [{ item_id: 5802432, price: 4.05 }]))});
      analytics.track('Product Viewed', { product_id: 1, price: 1 }); // unheard: the element is out
      document.body.append(el);
      analytics.track('Product Added', { product_id: 5802433, price: 5.5 });
      dataLayer.push(${JSON.stringify(ga4('remove_from_cart', [{ item_id: 5802432, price: 4.05 }]))});
      window.__done = true;
    });
  `;
  const s = await blank(head, body, 'source="dataLayer segment clicks"');
  try {
    const history = await s.el(() => document.querySelector('next-event-predictor').history);
    assert.deepEqual(history.map((x) => [x.event_type, x.product_id, x.source ?? null]), [
      ['view', 5802432, 'dataLayer'], ['view', 5802433, null], ['cart', 5802432, 'dataLayer'],
      ['cart', 5802433, 'segment'], ['remove_from_cart', 5802432, 'dataLayer'],
    ]);
    const stats = await s.el(() => document.querySelector('next-event-predictor').stats);
    assert.equal(stats.observed, 5);
    assert.equal(stats.detached, 1);
    assert.deepEqual(s.log.filter((x) => x.type === 'nextevent:error'), []);
    assert.deepEqual(s.errors, []);
  } finally { await s.context.close(); s.server.stop(); }
});

test('visit: consent pending stores nothing and queues in memory; granted proceeds; denied drops everything', async () => {
  const pushes = `
    window.dataLayer = [];
    dataLayer.push(${JSON.stringify(ga4('view_item', [{ item_id: 5802432, price: 4.05 }]))});
    dataLayer.push(${JSON.stringify(ga4('add_to_cart', [{ item_id: 5802432, price: 4.05 }]))});
  `;
  const storage = (s) => s.el(() => ({ session: Object.keys(sessionStorage), local: Object.keys(localStorage) }));
  const body = `document.querySelector('next-event-predictor').addEventListener('nextevent:ready', () => { window.__done = true; });`;
  const s = await blank(pushes, body, 'source="dataLayer" consent="pending"');
  try {
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(predictions(s.log), [], 'nothing predicted while pending');
    assert.deepEqual(await storage(s), { session: [], local: [] }, 'nothing stored while pending');
    assert.equal((await s.el(() => document.querySelector('next-event-predictor').stats)).queued, 2);
    await s.el(() => document.querySelector('next-event-predictor').setAttribute('consent', 'granted'));
    await waitFor(s, 2);
    assert.deepEqual(predictions(s.log).map((d) => d.event.event_type), ['view', 'cart'], 'the queue in order');
    assert.deepEqual(await storage(s), { session: [KEY], local: [] });
  } finally { await s.context.close(); s.server.stop(); }

  const d = await blank(pushes, body, 'source="dataLayer" consent="pending" storage="local"');
  try {
    await d.el(() => document.querySelector('next-event-predictor').setAttribute('consent', 'denied'));
    await d.el(() => dataLayer.push({ event: 'view_item', ecommerce: { items: [{ item_id: 1, price: 1 }] } }));
    await d.el(() => document.querySelector('next-event-predictor').setAttribute('consent', 'granted'));
    await d.el(() => dataLayer.push({ event: 'view_item', ecommerce: { items: [{ item_id: 2, price: 1 }] } }));
    await waitFor(d, 1);
    assert.equal(predictions(d.log)[0].event.product_id, 2, 'what was queued before the denial is gone, and what came during it');
    assert.deepEqual(await storage(d), { session: [], local: [KEY] });
  } finally { await d.context.close(); d.server.stop(); }

  // Consent Mode: gtag('consent', 'update', {analytics_storage: 'granted'}) grants a pending element.
  const cm = await blank(`${pushes}\n function gtag() { dataLayer.push(arguments); }`, `
    document.querySelector('next-event-predictor').addEventListener('nextevent:ready', () => { gtag('consent', 'update', { analytics_storage: 'granted' }); window.__done = true; });
  `, 'source="dataLayer" consent="pending"');
  try {
    await waitFor(cm, 2);
    assert.equal(await cm.el(() => document.querySelector('next-event-predictor').getAttribute('consent')), 'granted');
  } finally { await cm.context.close(); cm.server.stop(); }
});

test("the README's GA4 snippet works pasted into a blank page", async () => {
  const readme = (await import('node:fs')).readFileSync(`${root}README.md`, 'utf8');
  const snippet = readme.match(/<!-- ga4-snippet -->\s*```html\n([\s\S]*?)```/)?.[1];
  assert.ok(snippet, 'README has the GA4 snippet');
  const dir = mkdtempSync(join(tmpdir(), 'nextevent-ga4-'));
  symlinkSync(`${root}dist/embed`, join(dir, 'embed'));
  writeFileSync(join(dir, 'index.html'), `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>t</title></head><body>\n${snippet}\n</body></html>\n`);
  const server = await serve(dir);
  const s = await shopper();
  const logs = [];
  s.page.on('console', (m) => logs.push(m.text()));
  try {
    await s.page.goto(server.url);
    await waitFor(s, 1);
    const d = predictions(s.log)[0];
    assert.equal(d.event.event_type, 'view');
    assert.equal(d.event.product_id, 5802432);
    assert.ok(Math.abs(d.event.price - 4.05) < 1e-5);
    await s.page.waitForFunction(() => true);
    assert.ok(logs.some((l) => l.startsWith('next event:')), logs.join('\n'));
    assert.deepEqual(s.errors, []);
    assert.deepEqual(s.requests.filter((u) => !u.startsWith(server.url)), []);
  } finally { await s.context.close(); server.stop(); }
});
