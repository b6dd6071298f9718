// End-to-end: the demo and the example shop work under a strict Content-Security-Policy
// (sent as a real response header), with no violation reported and no request off the origin.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serve, launch, recordRequests, root } from './serve.mjs';

const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'";
let server;
let browser;
before(async () => {
  server = await serve(`${root}dist`, { 'Content-Security-Policy': CSP });
  browser = await launch();
});
after(async () => { await browser?.close(); server?.stop(); });

async function open(path) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const requests = recordRequests(page);
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e}`));
  page.on('console', (m) => { if (/Content.Security.Policy|Refused to/i.test(m.text())) problems.push(`console: ${m.text()}`); });
  await page.addInitScript(() => {
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(`${e.violatedDirective}: ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
  });
  const resp = await page.goto(`${server.url}${path}`);
  assert.equal(resp.headers()['content-security-policy'], CSP, 'the server sends the policy');
  return { page, requests, problems };
}

async function clean({ page, requests, problems }) {
  const violations = await page.evaluate(() => window.__violations);
  assert.deepEqual([...problems, ...violations], [], 'no CSP violation, no page error');
  assert.deepEqual(requests.filter((u) => !u.startsWith(server.url)), [], 'no request leaves the origin');
  await page.close();
}

test('csp: the demo predicts, draws its bars and replays under the policy', async () => {
  const p = await open('');
  const { page } = p;
  await page.locator('#bars .bar').first().waitFor();
  const widths = await page.$$eval('#bars .bar .fill', (fills) => fills.map((f) => f.style.width));
  assert.equal(widths.length, 4);
  assert.ok(widths.every((w) => /^\d+(\.\d+)?%$/.test(w)), `bar widths set: ${widths}`);
  await page.getByRole('button', { name: 'Buying' }).click();
  await page.locator('#influence .cell').first().waitFor();
  const bg = await page.$eval('#influence .cell', (c) => c.style.background);
  assert.ok(bg.startsWith('rgba'), `influence colours set: ${bg}`);
  await clean(p);
});

test('csp: the multi-page shop (GA4 dataLayer) observes a product view on load and keeps the visit under the policy', async () => {
  const p = await open('shop/');
  const { page } = p;
  await page.locator('#status[data-ready=true]').waitFor();
  await page.locator('.card a').first().click();
  await page.locator('#probs .prob').first().waitFor();
  await page.locator('#add').click();
  await page.locator('#cart-link').click();
  await page.locator('#status[data-ready=true]').waitFor();
  await page.waitForFunction(() => document.querySelector('next-event-predictor').history.length === 2);
  await page.locator('#to-checkout').click();
  await page.locator('#place').click();
  await page.waitForURL(/confirmation/);
  await page.waitForFunction(() => document.querySelector('next-event-predictor').history.at(-1)?.event_type === 'purchase');
  // The model ran in its module worker, whose script got the same policy header.
  assert.equal(await page.evaluate(() => document.querySelector('next-event-predictor').stats.engine), 'worker');
  await clean(p);
});

test('csp: the example shop loads the embed package and predicts under the policy', async () => {
  const p = await open('shop/clicks.html');
  const { page } = p;
  await page.locator('#status[data-ready=true]').waitFor();
  await page.locator('.card').first().locator('button.view').click();
  await page.locator('#probs .prob').first().waitFor();
  const widths = await page.$$eval('#probs .prob .bar span', (s) => s.map((x) => x.style.width));
  assert.equal(widths.length, 4);
  assert.ok(widths.every((w) => w.endsWith('%')), `${widths}`);
  await clean(p);
});
