// End-to-end: the example shop (dist/shop/) and the README's embed snippet in a blank page,
// served from 127.0.0.1 and driven in headless Chromium.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, serveDist, recordRequests, recordLayoutShifts, root, artifacts, shots } from './serve.mjs';

const ctx = serveDist(before, after);

async function openShop(width = 1280) {
  const page = await ctx.browser.newPage({ viewport: { width, height: 900 } });
  const requests = recordRequests(page);
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${ctx.server.url}shop/clicks.html`);
  await page.locator('#status[data-ready=true]').waitFor();
  await page.evaluate(() => {
    window.__ev = [];
    for (const n of ['nextevent:prediction', 'nextevent:churn-risk', 'nextevent:error']) addEventListener(n, (e) => window.__ev.push({ type: n, detail: e.detail }));
  });
  return { page, requests, errors };
}

const events = (page) => page.evaluate(() => window.__ev);
async function click(page, card, kind) {
  const n = (await events(page)).length;
  await page.locator('.card').nth(card).locator(`button.${kind}`).click();
  await page.waitForFunction((k) => window.__ev.length > k, n);
  return (await events(page)).filter((e) => e.type === 'nextevent:prediction').at(-1).detail;
}

test('shop: clicks fire nextevent:prediction with the documented shape', async () => {
  const { page, requests, errors } = await openShop();
  assert.ok(await page.locator('.card').count() >= 8, 'product cards from the real sample');
  const d = await click(page, 0, 'view');
  assert.deepEqual(Object.keys(d.probabilities), ['view', 'cart', 'remove_from_cart', 'purchase']);
  const sum = Object.values(d.probabilities).reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(sum - 1) < 1e-4);
  assert.ok(['view', 'cart', 'remove_from_cart', 'purchase'].includes(d.next));
  assert.equal(typeof d.confidence, 'number');
  assert.equal(typeof d.churnRisk, 'boolean');
  assert.equal(typeof d.threshold, 'number', 'a browsing visit has a threshold');
  assert.equal(typeof d.conversion, 'number', 'the shipped model has the conversion head');
  assert.equal(d.stage, 'browsing');
  assert.equal(d.riskBasis, 'conversion');
  assert.equal(d.observed, 1);
  assert.equal(d.event.event_type, 'view');
  const brand = await page.locator('.card').nth(0).locator('h3').innerText();
  assert.equal(d.favouriteBrand, brand.toLowerCase());
  assert.equal(await page.locator('#probs .prob').count(), 4);
  assert.deepEqual(errors, []);
  assert.deepEqual(requests.filter((u) => !u.startsWith(ctx.server.url) && !u.startsWith('data:')), [], 'no request leaves 127.0.0.1');
  await page.close();
});

test('shop: a buying path is never flagged once it buys; an abandoning path raises the offer banner once', async () => {
  const { page } = await openShop();
  // Buying: a view, two carts, a purchase.
  await click(page, 1, 'view');
  await click(page, 1, 'cart');
  const carting = await click(page, 2, 'cart');
  assert.equal(carting.stage, 'cart');
  const bought = await click(page, 1, 'purchase');
  console.log('buying path P(buys this visit) after two carts:', carting.conversion.toFixed(4), 'threshold', carting.threshold);
  assert.equal(bought.stage, 'purchased');
  assert.equal(bought.churnRisk, false, 'a visit that bought is never flagged');
  assert.equal(bought.threshold, null);
  assert.equal(await page.locator('#offer').isVisible(), false);

  // New shopper, abandoning: a cart, emptied again, then only browsing.
  await page.locator('#reset').click();
  await page.evaluate(() => { window.__ev = []; });
  await click(page, 4, 'cart');
  const emptied = await click(page, 4, 'remove_from_cart');
  assert.equal(emptied.stage, 'cart_emptied');
  await click(page, 5, 'view');
  await click(page, 6, 'view');
  const left = await click(page, 7, 'view');
  console.log('abandoning path P(buys this visit):', left.conversion.toFixed(4), 'stage', left.stage, 'threshold', left.threshold);
  assert.equal(left.stage, 'cart_emptied', 'browsing after emptying the cart stays in that stage');
  const card = JSON.parse(readFileSync(`${root}models/nextevent.card.json`, 'utf8'));
  assert.ok(Math.abs(left.threshold - card.real.conversion.thresholds.cart_emptied) < 1e-6, "the model card's threshold for an emptied cart");
  assert.equal(left.churnRisk, left.conversion < left.threshold);
  assert.equal(left.churnRisk, true, 'an emptied cart followed by browsing is at risk');
  // The risk event fires exactly on the predictions that cross from not-at-risk into risk.
  const seen = await events(page);
  const predictions = [];
  const firedAfter = []; // index of the prediction each churn-risk event follows
  for (const e of seen) {
    if (e.type === 'nextevent:prediction') predictions.push(e.detail);
    if (e.type === 'nextevent:churn-risk') firedAfter.push(predictions.length - 1);
  }
  const risks = seen.filter((e) => e.type === 'nextevent:churn-risk');
  const crossings = predictions.flatMap((d, i) => (d.churnRisk && !(i > 0 && predictions[i - 1].churnRisk) ? [i] : []));
  assert.equal(predictions.length, 5);
  assert.ok(risks.length >= 1);
  assert.deepEqual(firedAfter, crossings, 'fired once per crossing, not on every event');
  for (const r of risks) assert.ok(r.detail.conversion < r.detail.threshold);
  const offer = page.locator('#offer');
  await offer.waitFor();
  const fav = risks[0].detail.favouriteBrand;
  assert.ok(fav, 'a favourite brand');
  assert.match(await offer.innerText(), new RegExp(fav, 'i'));
  await page.screenshot({ path: `${shots}/shop-clicks.png`, fullPage: true });

  // Cost of one observe() in this Chromium: a fresh Session without DOM listeners.
  const cost = await page.evaluate(async () => {
    const { Session, ready } = await import('/embed/next-event-predictor.js');
    await ready(); // the element's model is in its worker; this page's thread loads its own
    const out = {};
    for (const [name, target] of [['no target', null], ['EventTarget, no listeners', new EventTarget()]]) {
      const s = new Session({ target });
      const t0 = Date.UTC(2019, 9, 1);
      for (let i = 0; i < 200; i++) s.observe({ event_type: 'view', event_time: t0 + i * 1000, product_id: 5802432, brand: 'runail', price: 4.05 });
      const n = 2000, start = performance.now();
      for (let i = 0; i < n; i++) s.observe({ event_type: ['view', 'cart', 'remove_from_cart'][i % 3], event_time: t0 + (200 + i) * 1000, product_id: 5802432 + (i % 7), brand: 'runail', price: 4.05 });
      out[name] = ((performance.now() - start) / n) * 1000;
    }
    return out;
  });
  console.log('observe() cost, µs per call (2,000 calls, window of 16):', JSON.stringify(cost));
  writeFileSync(`${artifacts}/observe-cost.json`, JSON.stringify(cost, null, 2));
  await page.close();
});

test('the README embed snippet works pasted into a blank page', async () => {
  const readme = readFileSync(`${root}README.md`, 'utf8');
  const snippet = readme.match(/<!-- embed-snippet -->\s*```html\n([\s\S]*?)```/)?.[1];
  const api = readme.match(/<!-- api-snippet -->\s*```js\n([\s\S]*?)```/)?.[1];
  assert.ok(snippet && api, 'README has both snippets');
  const dir = mkdtempSync(join(tmpdir(), 'nextevent-snippet-'));
  symlinkSync(`${root}dist/embed`, join(dir, 'embed'));
  writeFileSync(join(dir, 'index.html'), `<!doctype html>\n<html><head><meta charset="utf-8"></head><body>\n${snippet}\n<script type="module">\n${api}\n</script>\n</body></html>\n`);
  const blank = await serve(dir);
  const page = await ctx.browser.newPage();
  const logs = [];
  const errors = [];
  page.on('console', (m) => logs.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  const requests = recordRequests(page);
  try {
    await page.goto(blank.url);
    await page.waitForFunction(() => customElements.get('next-event-predictor'));
    await page.waitForFunction(() => document.querySelector('next-event-predictor')?.readyState === 'ready');
    await page.locator('button[data-nextevent-type]').first().click();
    const deadline = Date.now() + 15_000;
    const done = () => logs.some((l) => l.startsWith('API outlook:')) && logs.some((l) => l.startsWith('next event:'));
    while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.ok(logs.some((l) => l.startsWith('next event:')), logs.join('\n'));
    assert.ok(logs.some((l) => l.startsWith('API outlook:')), logs.join('\n'));
    assert.deepEqual(errors, []);
    assert.deepEqual(requests.filter((u) => !u.startsWith(blank.url)), []);
  } finally {
    await page.close();
    blank.stop();
  }
});

test('the shop\'s product page does not move while it loads, predicts and shows the offer (phone width)', async () => {
  const page = await ctx.browser.newPage({ viewport: { width: 412, height: 823 } });
  const layout = await recordLayoutShifts(page);
  const products = JSON.parse(readFileSync(`${root}dist/shop/products.json`, 'utf8'));
  await page.goto(`${ctx.server.url}shop/product.html?id=${products[0].product_id}`);
  await page.locator('#probs .prob').first().waitFor();
  // The offer, when the shop shows it, floats over the page.
  await page.evaluate(() => { const o = document.getElementById('offer'); o.textContent = 'Still deciding?'; o.hidden = false; });
  await new Promise((r) => setTimeout(r, 300));
  const { cls, shifts } = await layout();
  console.log('shop product page: cumulative layout shift', cls.toFixed(4), JSON.stringify(shifts));
  assert.ok(cls < 0.1, `CLS ${cls}: ${JSON.stringify(shifts)}`);
  await page.close();
});
