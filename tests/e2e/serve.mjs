// Test helpers: serve dist/ on 127.0.0.1 (Python's http.server) and launch headless Chromium.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { chromium } from 'playwright-core';

export const root = new URL('../../', import.meta.url).pathname;

async function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

/** Starts a static server for `dir`; resolves to { url, stop }. */
export async function serve(dir) {
  const port = await freePort();
  const proc = spawn('python3', ['-m', 'http.server', String(port), '--bind', '127.0.0.1', '--directory', dir], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}/`;
  for (let i = 0; i < 100; i++) {
    try { const r = await fetch(url); if (r.ok) break; } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, stop: () => proc.kill() };
}

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.wasm': 'application/wasm', '.css': 'text/css', '.json': 'application/json',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.ts': 'text/plain',
};

/** A static server for `dir` that sends `headers` with every response (e.g. a CSP). */
export async function serveWithHeaders(dir, headers) {
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

/** Records every request a page makes. */
export function recordRequests(page) {
  const urls = [];
  page.on('request', (r) => urls.push(r.url()));
  return urls;
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
