// End-to-end: the built demo (dist/) served from 127.0.0.1, driven in headless Chromium.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { serveDist, recordRequests, recordLayoutShifts, probabilities, root, artifacts, shots } from './serve.mjs';

const golden = JSON.parse(readFileSync(`${root}tests/golden/parity.json`, 'utf8'));
const ctx = serveDist(before, after);

test('the page predicts, matches native tract, and stays on 127.0.0.1', async () => {
  const page = await ctx.browser.newPage({ viewport: { width: 1280, height: 900 } });
  const requests = recordRequests(page);
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(ctx.server.url);
  const first = await probabilities(page);
  assert.deepEqual(Object.keys(first), ['view', 'cart', 'remove_from_cart', 'purchase']);
  // Navigation → first prediction, from the page's User Timing marks and resource timings.
  const timing = await page.evaluate(() => {
    const at = (n) => performance.getEntriesByName(n)[0]?.startTime;
    const wasm = performance.getEntriesByType('resource').find((r) => r.name.endsWith('.wasm'));
    return { wasm_fetched_ms: wasm?.responseEnd, model_loaded_ms: at('nextevent:model-loaded'), first_prediction_ms: at('nextevent:first-prediction') };
  });
  console.log('timing (ms from navigation):', JSON.stringify(timing));
  writeFileSync(`${artifacts}/timing.json`, JSON.stringify(timing, null, 2));
  assert.ok(timing.first_prediction_ms > 0 && timing.model_loaded_ms <= timing.first_prediction_ms, JSON.stringify(timing));
  const sum = Object.values(first).reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(sum - 1) < 1e-4, `probabilities sum to ${sum}`);

  // Load an example and compare with the native predictor's output for the same events.
  await page.getByRole('button', { name: 'Buying' }).click();
  await page.waitForFunction(() => document.querySelectorAll('#events tbody tr[data-row]').length === 4);
  const got = await probabilities(page);
  const want = golden.cases.find((c) => c.name === 'Buying').probabilities;
  Object.values(got).forEach((p, i) => assert.ok(Math.abs(p - want[i]) <= 1e-5, `class ${i}: page ${p} vs native ${want[i]}`));

  assert.deepEqual(errors, []);
  const foreign = requests.filter((u) => !u.startsWith(ctx.server.url) && !u.startsWith('data:'));
  assert.deepEqual(foreign, [], 'no request leaves 127.0.0.1');
  await page.close();
});

test('entering a sequence by hand updates the bars; a bad price marks its row', async () => {
  const page = await ctx.browser.newPage({ viewport: { width: 375, height: 800 } });
  await page.goto(ctx.server.url);
  await probabilities(page);
  await page.locator('#clear').click();
  await page.locator('.hint').waitFor();
  await page.locator('#add').click();
  await page.locator('#add').click();
  await page.locator('#add').click();
  await page.getByLabel('Event 2 type').selectOption('cart');
  await page.getByLabel('Event 3 type').selectOption('cart');
  const built = await probabilities(page);
  assert.ok(Math.abs(Object.values(built).reduce((a, b) => a + b, 0) - 1) < 1e-4);
  await page.getByLabel('Event 3 type').selectOption('remove_from_cart');
  await page.waitForFunction((prev) => Number(document.querySelector('#bars .bar[data-kind=view]')?.dataset.p) !== prev, built.view);

  await page.getByLabel('Event 2 price').fill('-3');
  await page.getByLabel('Event 2 price').press('Tab');
  const err = page.locator('.row-error');
  await err.waitFor();
  assert.match(await err.innerText(), /Event 2: price: negative price -3/);
  assert.equal(await page.locator('#bars').count(), 0, 'no prediction while a row is invalid');
  await page.getByLabel('Event 2 price').fill('3');
  await page.getByLabel('Event 2 price').press('Tab');
  await probabilities(page);
  await page.close();
});

test('the churn threshold flips the risk flag', async () => {
  const page = await ctx.browser.newPage();
  await page.goto(ctx.server.url);
  await probabilities(page);
  const flag = page.locator('#churn');
  await page.locator('#threshold').fill('0');
  assert.equal(await flag.getAttribute('data-at-risk'), 'false');
  await page.locator('#threshold').fill('1');
  assert.equal(await flag.getAttribute('data-at-risk'), 'true');
  assert.match(await flag.innerText(), /At risk/);
  await page.close();
});

test('influence strip, reordering, and a real session replayed step by step', async () => {
  const page = await ctx.browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(ctx.server.url);
  await probabilities(page);
  const rowCount = () => page.locator('#events tbody tr[data-row]').count();
  const deltas = () => page.$$eval('#influence .cell', (cs) => cs.map((c) => Number(c.dataset.delta)));
  const d = await deltas();
  assert.equal(d.length, await rowCount(), 'one influence cell per event');
  assert.ok(d.every(Number.isFinite) && d.some((x) => x !== 0), `deltas ${d}`);

  // Reorder: moving event 2 up swaps the first two rows.
  const kinds = () => page.$$eval('#events select.kind', (s) => s.map((x) => x.value));
  const before = await kinds();
  await page.getByRole('button', { name: 'Move event 2 up' }).click();
  await page.waitForFunction((b) => [...document.querySelectorAll('#events select.kind')].map((x) => x.value).join() !== b, before.join());
  const after = await kinds();
  assert.deepEqual(after.slice(0, 2), [before[1], before[0]]);

  // A real session from the shop's sample (bundled at build time): replay it.
  const real = page.locator('button.example.real');
  assert.ok(await real.count() >= 4, 'real sessions are offered');
  const buying = page.locator('button.example.real', { hasText: 'buys' }).first();
  await buying.click();
  const n = Number((await buying.innerText()).match(/(\d+) events/)[1]);
  await page.waitForFunction((k) => document.querySelectorAll('#events tbody tr[data-row]').length === k, n);
  const sessionKinds = await kinds();
  await page.locator('#replay-start').click();
  const replay = page.locator('#replay');
  await replay.waitFor();
  assert.equal(await replay.getAttribute('data-at'), '1');
  assert.equal(await replay.getAttribute('data-steps'), String(n));
  assert.equal(await rowCount(), 1);
  assert.equal(await page.locator('#replay-actual').getAttribute('data-actual'), sessionKinds[1]);
  await page.locator('#replay-next').click();
  await page.waitForFunction(() => document.querySelector('#replay')?.dataset.at === '2');
  assert.equal(await rowCount(), 2);
  assert.equal(await page.locator('#replay-actual').getAttribute('data-actual'), sessionKinds[2]);
  assert.equal(await page.locator('.timeline li').count(), n);
  await probabilities(page);
  await page.locator('#replay-next').click();
  await page.waitForFunction(() => document.querySelector('#replay')?.dataset.at === '3');
  await page.screenshot({ path: `${shots}/demo-desktop.png`, fullPage: true });
  await page.locator('#replay-exit').click();
  await page.waitForFunction((k) => document.querySelectorAll('#events tbody tr[data-row]').length === k, n);
  assert.equal(await replay.count(), 0);
  await page.close();
});

test('pasted Kaggle CSV rows load; bad lines are listed with their reasons', async () => {
  const page = await ctx.browser.newPage({ viewport: { width: 375, height: 800 } });
  await page.goto(ctx.server.url);
  await probabilities(page);
  await page.locator('#paste summary').click();
  await page.getByLabel(/header optional/).fill([
    'event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session',
    '2019-10-01 00:00:00 UTC,view,5773203,1487580005134238464,,runail,2.62,463240011,s1',
    '2019-10-01 00:00:30 UTC,cart,5773203,1487580005134238464,,runail,NaN,463240011,s1',
    '2019-10-01 00:01:00 UTC,cart,5773203,1487580005134238464,,runail,2.62,463240011,s1',
    '2019-10-01 00:02:00 UTC,cart,5773353,1487580005134238464,,runail,2.62,463240011,s1',
  ].join('\n'));
  await page.locator('#paste-load').click();
  const report = page.locator('#paste-report');
  await report.waitFor();
  assert.equal(await report.getAttribute('data-loaded'), '3');
  assert.equal(await report.getAttribute('data-rejected'), '1');
  assert.match(await report.innerText(), /line 3: price:/);
  await page.waitForFunction(() => document.querySelectorAll('#events tbody tr[data-row]').length === 3);
  assert.equal(await page.getByLabel('Event 3 product id').inputValue(), '5773353');
  const p = await probabilities(page);
  assert.ok(Math.abs(Object.values(p).reduce((a, b) => a + b, 0) - 1) < 1e-4);
  await page.screenshot({ path: `${shots}/demo-phone.png`, fullPage: true });
  await page.close();
});

test('what a visitor reads first is static HTML: painted without the wasm, and the app takes over without a layout shift', async () => {
  // Without the wasm (blocked): the title, tagline, what the page does and the examples' names.
  const bare = await ctx.browser.newPage({ viewport: { width: 1280, height: 900 } });
  await bare.route('**/*.wasm', (r) => r.abort());
  await bare.goto(ctx.server.url);
  assert.equal(await bare.locator('header h1').innerText(), 'nextevent');
  assert.match(await bare.locator('header .tagline').innerText(), /next action in your browser/);
  assert.match(await bare.locator('#about').innerText(), /probabilities .*churn risk/s);
  const names = await bare.$$eval('#about .example-name', (s) => s.map((x) => x.textContent));
  assert.equal(names.length, 4);
  await bare.close();

  // With it: every example named statically is a button of the app; the layout shifts of the
  // whole load, until the first prediction is drawn, stay below Core Web Vitals' "good" 0.1.
  const page = await ctx.browser.newPage({ viewport: { width: 1280, height: 900 } });
  const layout = await recordLayoutShifts(page);
  await page.goto(ctx.server.url);
  await probabilities(page);
  await new Promise((r) => setTimeout(r, 500));
  for (const n of names) assert.ok(await page.getByRole('button', { name: n, exact: true }).count() === 1, `an example button named ${n}`);
  const { cls, shifts } = await layout();
  console.log('demo load: cumulative layout shift', cls.toFixed(4), JSON.stringify(shifts));
  assert.ok(cls < 0.1, `CLS ${cls}: ${JSON.stringify(shifts)}`);
  assert.equal(await page.locator('header h1').count(), 1, 'one title: the app does not render a second header');
  await page.close();
});

test("the model's code is compiled in a warm-up worker first; without one the demo still predicts, and says why", async () => {
  // The worker: it instantiates the page's own module (no second wasm fetched), answers before
  // the page loads its model, and the page's prediction is the native one.
  const page = await ctx.browser.newPage();
  const requests = recordRequests(page);
  const workers = [];
  page.on('worker', (w) => workers.push(w.url()));
  await page.goto(ctx.server.url);
  await page.getByRole('button', { name: 'Buying' }).click();
  const got = await probabilities(page);
  const want = golden.cases.find((c) => c.name === 'Buying').probabilities;
  Object.values(got).forEach((p, i) => assert.ok(Math.abs(p - want[i]) <= 1e-5, `class ${i}: page ${p} vs native ${want[i]}`));
  assert.deepEqual(workers.map((u) => new URL(u).pathname), ['/demo-warm.js']);
  assert.match(await page.locator('#warm').innerText(), /a worker ran the same load .*\(\d+ ms\)/);
  const marks = await page.evaluate(() => ['nextevent:warmed', 'nextevent:model-loaded'].map((n) => performance.getEntriesByName(n)[0]?.startTime));
  assert.ok(marks[0] > 0 && marks[0] <= marks[1], JSON.stringify(marks));
  assert.equal(requests.filter((u) => u.endsWith('.wasm')).length, 1, `one wasm fetched: ${requests.join(' ')}`);
  await page.close();

  // No Worker at all, and a worker script that does not load: the page loads the model on its
  // own thread, predicts the same, and the model panel says why.
  for (const [name, setup, reason] of [
    ['no Worker', (p) => p.addInitScript(() => { delete window.Worker; }), /could not start/],
    ['script 404', (p) => p.route('**/demo-warm.js', (r) => r.fulfill({ status: 404, body: 'gone' })), /failed to load/],
  ]) {
    const bare = await ctx.browser.newPage();
    const errors = [];
    bare.on('pageerror', (e) => errors.push(String(e)));
    await setup(bare);
    await bare.goto(ctx.server.url);
    await bare.getByRole('button', { name: 'Buying' }).click();
    const same = await probabilities(bare);
    assert.deepEqual(same, got, name);
    const why = await bare.locator('#warm').innerText();
    assert.match(why, /compiled the model's code on its own thread/, name);
    assert.match(why, reason, `${name}: ${why}`);
    assert.deepEqual(errors, [], name);
    await bare.close();
  }
});

test("the page's model load runs in separate tasks: reading, decluttering, optimizing, the batch plan, the first render", async () => {
  // Each step of `load_in_tasks` (src/browser/page/mod.rs) marks its end, then yields with a
  // zero setTimeout. The init script numbers the timer callbacks, so each mark carries the
  // number of the timer task it ran in (its promise continuations run in that task's
  // microtasks): steps in one task share a number.
  const page = await ctx.browser.newPage();
  await page.addInitScript(() => {
    let task = 0;
    const setTimeoutOrig = window.setTimeout;
    window.setTimeout = function (cb, ms, ...args) {
      return setTimeoutOrig.call(window, () => { task += 1; cb(...args); }, ms);
    };
    const markOrig = Performance.prototype.mark;
    window.__markTasks = {};
    Performance.prototype.mark = function (name, ...rest) {
      if (String(name).startsWith('nextevent:')) window.__markTasks[name] = task;
      return markOrig.call(this, name, ...rest);
    };
  });
  await page.goto(ctx.server.url);
  await probabilities(page);
  const steps = ['nextevent:warmed', 'nextevent:model-read', 'nextevent:model-decluttered', 'nextevent:model-optimized', 'nextevent:batch-plan', 'nextevent:first-prediction'];
  const tasks = await page.evaluate((names) => names.map((n) => window.__markTasks[n]), steps);
  assert.ok(tasks.every((t) => Number.isInteger(t)), `every step marked: ${JSON.stringify(tasks)}`);
  for (let i = 1; i < steps.length; i++) {
    assert.ok(tasks[i] > tasks[i - 1], `${steps[i]} runs in a later task than ${steps[i - 1]}: ${JSON.stringify(tasks)}`);
  }
  await page.close();
});
