// Memory: 100,000 predictions (and 20,000 session observations) through the JS API in
// Chromium; after warm-up, wasm linear memory and the JS heap (after a forced GC) must grow
// by less than 1 MB. The figures are printed and written to tests/e2e/artifacts/memory.json.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdirSync } from 'node:fs';
import { serve, launch, root, artifacts } from './serve.mjs';

let server;
let browser;
before(async () => {
  server = await serve(`${root}dist`);
  browser = await launch(['--js-flags=--expose-gc', '--enable-precise-memory-info']);
  mkdirSync(artifacts, { recursive: true });
});
after(async () => { await browser?.close(); server?.stop(); });

test('memory: 100,000 predictions grow wasm memory and the JS heap by less than 1 MB', async () => {
  const page = await browser.newPage();
  await page.goto(`${server.url}shop/clicks.html`);
  const figures = await page.evaluate(async () => {
    const m = await import('/embed/nextevent.js');
    const wasm = await m.default();
    const kinds = ['view', 'cart', 'view', 'remove_from_cart', 'cart', 'purchase'];
    const events = Array.from({ length: 16 }, (_, i) => ({
      event_type: kinds[i % kinds.length], event_time: Date.UTC(2020, 1, 3, 12, 0, i * 7),
      product_id: 5_802_432 + (i % 4), brand: i % 3 ? 'runail' : 'irisk', price: 2.5 + i,
    }));
    const predictor = new m.Predictor();
    const session = new m.Session({ target: new EventTarget() });
    const measure = () => { gc(); gc(); return { wasm: wasm.memory.buffer.byteLength, heap: performance.memory.usedJSHeapSize }; };
    const run = async (n) => {
      let last;
      for (let i = 0; i < n; i++) {
        last = predictor.predict(events);
        if (i % 5000 === 4999) await new Promise((r) => setTimeout(r, 0));
      }
      return last;
    };
    await run(5_000);
    for (let i = 0; i < 2_000; i++) session.observe({ ...events[i % 16], event_time: Date.UTC(2020, 1, 3, 12, 0, 0) + i * 1000 });
    const before = measure();
    const t0 = performance.now();
    const last = await run(100_000);
    const ms = performance.now() - t0;
    for (let i = 2_000; i < 22_000; i++) session.observe({ ...events[i % 16], event_time: Date.UTC(2020, 1, 3, 12, 0, 0) + i * 1000 });
    const afterRun = measure();
    return { before, after: afterRun, predictions: 100_000, observations: 20_000, us_per_prediction: (ms * 1000) / 100_000, last: last.probabilities };
  });
  const growth = { wasm_bytes: figures.after.wasm - figures.before.wasm, js_heap_bytes: figures.after.heap - figures.before.heap };
  console.log('memory:', JSON.stringify({ ...figures, growth }));
  writeFileSync(`${artifacts}/memory.json`, JSON.stringify({ ...figures, growth }, null, 2));
  assert.ok(Math.abs(Object.values(figures.last).reduce((a, b) => a + b, 0) - 1) < 1e-4);
  assert.ok(growth.wasm_bytes < 1 << 20, `wasm memory grew by ${growth.wasm_bytes} B`);
  assert.ok(growth.js_heap_bytes < 1 << 20, `JS heap grew by ${growth.js_heap_bytes} B`);
  await page.close();
});
