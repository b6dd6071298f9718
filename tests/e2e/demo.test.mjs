// End-to-end: the built demo (dist/) served from 127.0.0.1, driven in headless Chromium.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdirSync } from 'node:fs';
import { serve, launch, recordRequests, root } from './serve.mjs';

const golden = JSON.parse(readFileSync(`${root}tests/golden/parity.json`, 'utf8'));
const artifacts = `${root}tests/e2e/artifacts`;
let server, browser;

before(async () => { server = await serve(`${root}dist`); browser = await launch(); mkdirSync(artifacts, { recursive: true }); });
after(async () => { await browser?.close(); server?.stop(); });

async function probabilities(page) {
  await page.locator('#bars .bar').first().waitFor();
  return page.$$eval('#bars .bar', (bars) => Object.fromEntries(bars.map((b) => [b.dataset.kind, Number(b.dataset.p)])));
}

test('the page predicts, matches native tract, and stays on 127.0.0.1', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const requests = recordRequests(page);
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(server.url);
  const first = await probabilities(page);
  assert.deepEqual(Object.keys(first), ['view', 'cart', 'remove_from_cart', 'purchase']);
  const sum = Object.values(first).reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(sum - 1) < 1e-4, `probabilities sum to ${sum}`);

  // Load an example and compare with the native predictor's output for the same events.
  await page.getByRole('button', { name: 'Buying' }).click();
  await page.waitForFunction(() => document.querySelectorAll('#events tbody tr[data-row]').length === 4);
  const got = await probabilities(page);
  const want = golden.cases.find((c) => c.name === 'Buying').probabilities;
  Object.values(got).forEach((p, i) => assert.ok(Math.abs(p - want[i]) <= 1e-5, `class ${i}: page ${p} vs native ${want[i]}`));
  await page.screenshot({ path: `${artifacts}/demo-desktop.png`, fullPage: true });

  assert.deepEqual(errors, []);
  const foreign = requests.filter((u) => !u.startsWith(server.url) && !u.startsWith('data:'));
  assert.deepEqual(foreign, [], 'no request leaves 127.0.0.1');
  await page.close();
});

test('entering a sequence by hand updates the bars; a bad price marks its row', async () => {
  const page = await browser.newPage({ viewport: { width: 375, height: 800 } });
  await page.goto(server.url);
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
  await page.screenshot({ path: `${artifacts}/demo-phone.png`, fullPage: true });

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
  const page = await browser.newPage();
  await page.goto(server.url);
  await probabilities(page);
  const flag = page.locator('#churn');
  await page.locator('#threshold').fill('0');
  assert.equal(await flag.getAttribute('data-at-risk'), 'false');
  await page.locator('#threshold').fill('1');
  assert.equal(await flag.getAttribute('data-at-risk'), 'true');
  assert.match(await flag.innerText(), /At risk/);
  await page.close();
});
