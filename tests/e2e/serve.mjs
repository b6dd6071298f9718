// Test helpers, shared by every e2e test and perf/: one static server on 127.0.0.1, headless
// Chromium, a request recorder and the demo's probabilities reader.
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { chromium } from 'playwright-core';

export const root = new URL('../../', import.meta.url).pathname;

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.wasm': 'application/wasm', '.css': 'text/css', '.json': 'application/json',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.ts': 'text/plain',
};

/** The one static server of the tests: serves `dir` on 127.0.0.1, sending `headers` (e.g. a
 * CSP) with every response; resolves to { url, stop }. */
export async function serve(dir, headers = {}) {
  const server = createHttpServer((req, res) => {
    let path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname));
    if (path.includes('..')) { res.writeHead(400).end(); return; }
    let file = join(dir, path);
    try { if (statSync(file).isDirectory()) file = join(file, 'index.html'); } catch { /* 404 below */ }
    try {
      const body = readFileSync(file);
      res.writeHead(200, { 'Content-Type': TYPES[extname(file)] || 'application/octet-stream', ...headers });
      res.end(body);
    } catch {
      res.writeHead(404, headers).end('not found');
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}/`, stop: () => server.close() };
}

/** Headless Chromium; `extra` adds command-line flags (e.g. `--js-flags=--expose-gc`). */
export async function launch(extra = []) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', ...extra],
  });
}

/** The demo's four probabilities by kind, once its bars are drawn. */
export async function probabilities(page) {
  await page.locator('#bars .bar').first().waitFor();
  return page.$$eval('#bars .bar', (bars) => Object.fromEntries(bars.map((b) => [b.dataset.kind, Number(b.dataset.p)])));
}

/** Records every request a page makes. */
export function recordRequests(page) {
  const urls = [];
  page.on('request', (r) => urls.push(r.url()));
  return urls;
}

/** Records a page's layout shifts (those without recent input) from before it loads; the
 * returned function resolves to `{cls, shifts}` so far, each shift with the nodes that moved. */
export async function recordLayoutShifts(page) {
  await page.addInitScript(() => {
    window.__cls = 0;
    window.__shifts = [];
    new PerformanceObserver((l) => {
      for (const e of l.getEntries()) if (!e.hadRecentInput) { window.__cls += e.value; window.__shifts.push({ value: e.value, nodes: e.sources.map((s) => s.node?.nodeName + (s.node?.id ? `#${s.node.id}` : '')) }); }
    }).observe({ type: 'layout-shift', buffered: true });
  });
  return () => page.evaluate(() => ({ cls: window.__cls, shifts: window.__shifts }));
}

export const artifacts = `${root}tests/e2e/artifacts`;
// `NEXTEVENT_SCREENSHOTS=docs` writes the README's screenshots there instead of the artifacts.
export const shots = process.env.NEXTEVENT_SCREENSHOTS ? `${root}${process.env.NEXTEVENT_SCREENSHOTS}` : artifacts;

/** Serves dist/ and launches Chromium for one test file: `ctx.server` and `ctx.browser` are set in before(). */
export function serveDist(before, after) {
  const ctx = {};
  before(async () => {
    ctx.server = await serve(`${root}dist`);
    ctx.browser = await launch();
    mkdirSync(artifacts, { recursive: true });
    mkdirSync(shots, { recursive: true });
  });
  after(async () => { await ctx.browser?.close(); ctx.server?.stop(); });
  return ctx;
}
