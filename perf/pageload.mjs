// Page-load figures for the shop embed and the demo (BENCHMARKS.md §9), side by side for one
// or more builds (`label=dist-dir`), each figure the median of --runs runs (default 7):
// - Lighthouse 12 (mobile defaults: simulated slow 4G, 4× CPU slowdown) on the example shop's
//   product page and on the demo: performance, LCP, TBT, CLS; accessibility of the demo and of
//   every shop page;
// - main-thread time of long animation frames (LoAF) while the product page loads and the shop
//   pushes 100 GA4 events, with and without nextevent (the page minus its module script), and
//   the part of it run by nextevent's own scripts (`scripts[].sourceURL` under /embed/);
// - navigation → nextevent:ready on the second page of a visit, warm HTTP cache, eager loading;
// - LCP of the product page with and without nextevent, cold (a fresh browser context);
// - the bytes the worker scripts add;
// - the demo loaded cold in Chromium (no throttling): long-animation-frame blocking until its
//   first prediction, navigation → first prediction, and the model load on the page's thread.
// --demo-only measures the demo's rows alone (Lighthouse on the demo, then the browser run), the
// builds taking turns run by run, and lists each Lighthouse run's performance and TBT.
// dist/ is served from 127.0.0.1 brotli-compressed with cache headers, as a good static host
// would. Usage: node perf/pageload.mjs [--runs N] [--json FILE] [--browser-only] [--demo-only] label=dir …
import { createServer } from 'node:http';
import { brotliCompressSync, constants } from 'node:zlib';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { extname, join, normalize } from 'node:path';
import { tmpdir } from 'node:os';
import { pathToFileURL } from 'node:url';
import { launch, root } from '../tests/e2e/serve.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); if (i < 0) return dflt; const v = args[i + 1]; args.splice(i, 2); return v; };
const RUNS = Number(opt('--runs', '7'));
const JSON_OUT = opt('--json', null);
// --from FILE: print the table of an earlier run's --json file again, measuring nothing.
const FROM = opt('--from', null);
// --browser-only: skip the Lighthouse runs (the slow part); the browser figures only.
const BROWSER_ONLY = args.includes('--browser-only');
if (BROWSER_ONLY) args.splice(args.indexOf('--browser-only'), 1);
const DEMO_ONLY = args.includes('--demo-only');
if (DEMO_ONLY) args.splice(args.indexOf('--demo-only'), 1);
const NEED_LH = !FROM && !BROWSER_ONLY;
const builds = args.map((a) => { const [label, dir] = a.includes('=') ? a.split('=') : ['this build', a]; return { label, dir: normalize(dir) }; });
if (!builds.length) builds.push({ label: 'this build', dir: `${root}dist` });
const LH = process.env.LIGHTHOUSE_DIR || `${root}target/lighthouse`;
if (NEED_LH && !existsSync(`${LH}/node_modules/lighthouse/core/index.js`)) {
  console.error(`Lighthouse is not installed in ${LH}: run \`bash perf/pageload.sh\` (it installs lighthouse@12.2.3 there)`);
  process.exit(2);
}
const { default: lighthouse } = NEED_LH ? await import(pathToFileURL(`${LH}/node_modules/lighthouse/core/index.js`)) : {};
const chromeLauncher = NEED_LH ? await import(pathToFileURL(`${LH}/node_modules/chrome-launcher/dist/index.js`)) : null;
const CHROME_FLAGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css', '.json': 'application/json', '.svg': 'image/svg+xml', '.ts': 'text/plain' };
const ELEMENT_SCRIPT = /<script type="module"( async)? src="\.\.\/embed\/next-event-predictor\.js"><\/script>/;

/**
 * Serves `dir` brotli-compressed with `Cache-Control: max-age=600`. Prefixes pick a variant of
 * the shop's HTML: /without/… drops nextevent's module script (the element stays an inert tag,
 * so the shop's own code runs unchanged), /eager/… adds loading="eager" to the element.
 */
async function serveCompressed(dir) {
  const cache = new Map();
  const server = createServer((req, res) => {
    let path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname));
    let variant = null;
    const m = path.match(/^\/(without|eager)(\/.*)$/);
    if (m) [variant, path] = [m[1], m[2]];
    let file = join(dir, path);
    try { if (statSync(file).isDirectory()) file = join(file, 'index.html'); } catch { res.writeHead(404).end(); return; }
    const key = `${variant}:${file}`;
    if (!cache.has(key)) {
      let body = readFileSync(file);
      if (extname(file) === '.html' && variant) {
        let html = body.toString('utf8');
        if (variant === 'without') { if (!ELEMENT_SCRIPT.test(html) && html.includes('next-event-predictor')) throw new Error(`${file}: element script tag not found`); html = html.replace(ELEMENT_SCRIPT, ''); }
        if (variant === 'eager') html = html.replaceAll('<next-event-predictor ', '<next-event-predictor loading="eager" ');
        body = Buffer.from(html);
      }
      cache.set(key, { raw: body, br: brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }) });
    }
    const { raw, br } = cache.get(key);
    const useBr = /\bbr\b/.test(req.headers['accept-encoding'] ?? '');
    res.writeHead(200, { 'Content-Type': TYPES[extname(file)] || 'application/octet-stream', 'Cache-Control': 'max-age=600', Vary: 'Accept-Encoding', ...(useBr ? { 'Content-Encoding': 'br' } : {}) });
    res.end(useBr ? br : raw);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}`, stop: () => server.close(), size: (p) => { const f = join(dir, p); return existsSync(f) ? { raw: statSync(f).size, br: brotliCompressSync(readFileSync(f)).length } : null; } };
}

const median = (xs) => { const s = xs.filter((x) => x != null && Number.isFinite(x)).sort((a, b) => a - b); return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : null; };

async function lighthouseRun(url, categories) {
  const chrome = await chromeLauncher.launch({ chromePath: process.env.CHROMIUM || '/usr/bin/chromium', chromeFlags: CHROME_FLAGS, userDataDir: mkdtempSync(join(tmpdir(), 'lh-')) });
  try {
    const r = await lighthouse(url, { port: chrome.port, output: 'json', logLevel: 'error', onlyCategories: categories });
    const a = r.lhr.audits;
    const failing = Object.values(a).filter((x) => x.scoreDisplayMode === 'binary' && x.score === 0 && r.lhr.categories.accessibility?.auditRefs.some((ref) => ref.id === x.id)).map((x) => x.id);
    return {
      performance: r.lhr.categories.performance ? r.lhr.categories.performance.score * 100 : null,
      accessibility: r.lhr.categories.accessibility ? r.lhr.categories.accessibility.score * 100 : null,
      lcp_ms: a['largest-contentful-paint']?.numericValue, tbt_ms: a['total-blocking-time']?.numericValue, cls: a['cumulative-layout-shift']?.numericValue,
      failing,
    };
  } finally {
    await chrome.kill();
  }
}

async function lighthouseMedian(url, categories) {
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(await lighthouseRun(url, categories));
  return lighthouseSummary(runs);
}

/** The medians of Lighthouse runs, the accessibility audits any run failed, and each run's
 * performance and TBT (the spread shows how noisy the machine was). */
function lighthouseSummary(runs) {
  const m = { runs: runs.map((r) => ({ performance: r.performance, tbt_ms: r.tbt_ms })) };
  for (const k of ['performance', 'accessibility', 'lcp_ms', 'tbt_ms', 'cls']) m[k] = median(runs.map((r) => r[k]));
  m.failing = [...new Set(runs.flatMap((r) => r.failing))];
  return m;
}

/** Long animation frames while the product page loads and the shop pushes 100 GA4 events. */
async function loafRun(browser, url, withNextevent) {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.addInitScript(() => {
    window.__loaf = [];
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__loaf.push({ duration: e.duration, blocking: e.blockingDuration, scripts: e.scripts.map((s) => ({ url: s.sourceURL, ms: s.duration })) }); })
      .observe({ type: 'long-animation-frame', buffered: true });
  });
  await page.goto(url, { waitUntil: 'load' });
  if (withNextevent) await page.waitForFunction(() => document.querySelector('next-event-predictor')?.stats?.observed >= 1 || document.querySelector('next-event-predictor')?.history?.length >= 1, null, { timeout: 30_000 });
  await page.evaluate(async (withNe) => {
    const el = document.querySelector('next-event-predictor');
    const start = el?.stats?.observed ?? 0;
    for (let i = 0; i < 100; i++) {
      window.dataLayer.push({ ecommerce: null });
      window.dataLayer.push({ event: i % 5 === 4 ? 'add_to_cart' : 'view_item', ecommerce: { currency: 'USD', items: [{ item_id: String(5802432 + (i % 9)), item_brand: 'runail', price: 4.05 + (i % 3) }] } });
      await new Promise((r) => setTimeout(r, 16));
    }
    if (withNe) while ((el.stats.observed - start) < 100) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 300));
  }, withNextevent);
  const loaf = await page.evaluate(() => window.__loaf);
  await ctx.close();
  const ours = (s) => s.url.includes('/embed/');
  return {
    long_frames: loaf.length,
    blocking_ms: loaf.reduce((a, f) => a + f.blocking, 0),
    ours_script_ms: loaf.reduce((a, f) => a + f.scripts.filter(ours).reduce((b, s) => b + s.ms, 0), 0),
    ours_long_frames: loaf.filter((f) => f.scripts.some(ours)).length,
  };
}

/**
 * navigation → nextevent:ready on the second page of a visit (warm HTTP cache), and the steps on
 * the way (ms from navigation): DOMContentLoaded, the element defined, the wasm read from the
 * cache (its resource entry's responseEnd) and compiled (compileStreaming settled).
 */
async function secondPageReady(browser, base, productUrls) {
  const ctx = await browser.newContext();
  await ctx.addInitScript(() => {
    const at = (k) => { (window.__steps ??= {})[k] ??= performance.now(); };
    addEventListener('nextevent:ready', () => { window.__readyAt = performance.now(); });
    document.addEventListener('DOMContentLoaded', () => at('dcl'));
    customElements.whenDefined('next-event-predictor').then(() => at('defined'));
    const compile = WebAssembly.compileStreaming;
    if (compile) WebAssembly.compileStreaming = (...a) => compile.apply(WebAssembly, a).finally(() => at('compiled'));
  });
  const page = await ctx.newPage();
  await page.goto(`${base}${productUrls[0]}`);
  await page.waitForFunction(() => window.__readyAt !== undefined, null, { timeout: 30_000 });
  await page.goto(`${base}${productUrls[1]}`);
  await page.waitForFunction(() => window.__readyAt !== undefined, null, { timeout: 30_000 });
  const r = await page.evaluate(() => ({
    ready: window.__readyAt, ...window.__steps,
    wasm_read: performance.getEntriesByType('resource').find((e) => e.name.endsWith('.wasm'))?.responseEnd,
  }));
  await ctx.close();
  return r;
}

/**
 * The demo loaded cold (a fresh context): long-animation-frame blocking from navigation until
 * 500 ms after its first prediction, navigation → first prediction, and the page's own model
 * load (its `nextevent:warmed` → `nextevent:model-loaded` marks; without a warm-up mark, from
 * navigation's start of the app, so a build without the worker reports its whole load).
 */
async function demoRun(browser, url) {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.addInitScript(() => {
    window.__loaf = [];
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__loaf.push({ duration: e.duration, blocking: e.blockingDuration }); })
      .observe({ type: 'long-animation-frame', buffered: true });
  });
  await page.goto(url);
  await page.waitForFunction(() => performance.getEntriesByName('nextevent:first-prediction').length > 0, null, { timeout: 60_000 });
  await new Promise((r) => setTimeout(r, 500));
  const r = await page.evaluate(() => {
    const at = (n) => performance.getEntriesByName(n)[0]?.startTime;
    const model = document.querySelector('#model-name')?.textContent.match(/loaded in (\d+) ms/);
    return {
      blocking_ms: window.__loaf.reduce((a, f) => a + f.blocking, 0), long_frames: window.__loaf.length,
      longest_ms: Math.max(0, ...window.__loaf.map((f) => f.duration)),
      first_prediction_ms: at('nextevent:first-prediction'), model_load_ms: model ? Number(model[1]) : null,
      warmed_ms: at('nextevent:warmed') ?? null,
    };
  });
  await ctx.close();
  return r;
}

async function lcpCold(browser, url) {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.addInitScript(() => { window.__lcp = 0; new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__lcp = e.startTime; }).observe({ type: 'largest-contentful-paint', buffered: true }); });
  await page.goto(url, { waitUntil: 'load' });
  await new Promise((r) => setTimeout(r, 700));
  const lcp = await page.evaluate(() => window.__lcp);
  await ctx.close();
  return lcp;
}

const medians = (runs) => Object.fromEntries(Object.keys(runs[0]).map((k) => [k, median(runs.map((x) => x[k]))]));

/** The medians of RUNS cold demo loads (`demoRun`), in one browser. */
async function demoMedian(base) {
  console.error(`demo loaded cold ×${RUNS}…`);
  const browser = await launch();
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(await demoRun(browser, `${base}/`));
  await browser.close();
  return medians(runs);
}

/**
 * --demo-only: the demo's rows for every build, the builds taking turns run by run (run 1 of
 * each, then run 2 of each, …), so a machine that gets slower or faster during the benchmark
 * shifts every build alike instead of whichever build ran last.
 */
async function demoOnly() {
  const servers = [];
  for (const b of builds) servers.push(await serveCompressed(b.dir));
  const lh = builds.map(() => []);
  if (!BROWSER_ONLY) {
    console.error(`Lighthouse ×${RUNS} on the demo, the builds taking turns…`);
    for (let i = 0; i < RUNS; i++) {
      for (const [j, s] of servers.entries()) lh[j].push(await lighthouseRun(`${s.url}/`, ['performance', 'accessibility']));
    }
  }
  console.error(`demo loaded cold ×${RUNS}, the builds taking turns…`);
  const browser = await launch();
  const cold = builds.map(() => []);
  for (let i = 0; i < RUNS; i++) {
    for (const [j, s] of servers.entries()) cold[j].push(await demoRun(browser, `${s.url}/`));
  }
  await browser.close();
  for (const s of servers) s.stop();
  return builds.map(({ label, dir }, j) => ({ label, dir, ...(BROWSER_ONLY ? {} : { lh_demo: lighthouseSummary(lh[j]) }), demo: medians(cold[j]) }));
}

const saved = FROM ? JSON.parse(readFileSync(FROM, 'utf8')) : null;
const results = saved ? saved.results : [];
if (DEMO_ONLY && !saved) results.push(...(await demoOnly()));
for (const { label, dir } of saved || DEMO_ONLY ? [] : builds) {
  const s = await serveCompressed(dir);
  const products = JSON.parse(readFileSync(join(dir, 'shop/products.json'), 'utf8'));
  const list = Array.isArray(products) ? products : products.products;
  const ids = list.slice(0, 2).map((p) => p.product_id);
  const product = `/shop/product.html?id=${ids[0]}`;
  const r = { label, dir };
  if (!BROWSER_ONLY) {
    console.error(`[${label}] ${dir}: Lighthouse ×${RUNS} on the product page, the page without nextevent and the demo…`);
    r.lh_product = await lighthouseMedian(`${s.url}${product}`, ['performance', 'accessibility']);
    r.lh_product_without = await lighthouseMedian(`${s.url}/without${product}`, ['performance']);
    r.lh_demo = await lighthouseMedian(`${s.url}/`, ['performance', 'accessibility']);
    r.a11y_shop = {};
    for (const p of ['shop/index.html', product.slice(1), 'shop/cart.html', 'shop/checkout.html', 'shop/confirmation.html?order=1']) {
      const one = await lighthouseRun(`${s.url}/${p}`, ['accessibility']);
      r.a11y_shop[p.split('?')[0]] = { score: one.accessibility, failing: one.failing };
    }
  }
  console.error(`[${label}] long animation frames, second-page ready, cold LCP ×${RUNS}…`);
  const browser = await launch();
  const loafWith = [], loafWithout = [], ready = [], lcpWith = [], lcpWithout = [];
  for (let i = 0; i < RUNS; i++) {
    loafWith.push(await loafRun(browser, `${s.url}${product}`, true));
    loafWithout.push(await loafRun(browser, `${s.url}/without${product}`, false));
    ready.push(await secondPageReady(browser, `${s.url}/eager`, ids.map((id) => `/shop/product.html?id=${id}`)));
    lcpWith.push(await lcpCold(browser, `${s.url}${product}`));
    lcpWithout.push(await lcpCold(browser, `${s.url}/without${product}`));
  }
  await browser.close();
  const med = (xs, k) => median(xs.map((x) => x[k]));
  r.loaf = {
    with: { blocking_ms: med(loafWith, 'blocking_ms'), long_frames: med(loafWith, 'long_frames'), ours_script_ms: med(loafWith, 'ours_script_ms'), ours_long_frames: med(loafWith, 'ours_long_frames') },
    without: { blocking_ms: med(loafWithout, 'blocking_ms'), long_frames: med(loafWithout, 'long_frames') },
  };
  r.second_page_ready_ms = med(ready, 'ready');
  r.second_page_steps_ms = Object.fromEntries(['dcl', 'defined', 'wasm_read', 'compiled'].map((k) => [k, med(ready, k)]));
  r.lcp_cold_ms = { with: median(lcpWith), without: median(lcpWithout) };
  r.demo = await demoMedian(s.url);
  r.worker_bytes = { 'nextevent-worker.js': s.size('embed/nextevent-worker.js'), 'nextevent-engine.js': s.size('embed/nextevent-engine.js') };
  s.stop();
  results.push(r);
}

const f = (v, d = 0) => (v == null ? '—' : Number(v).toFixed(d));
const rows = [
  ['shop product page: Lighthouse performance (goal ≥ 95)', (r) => f(r.lh_product?.performance)],
  ['… the same page without nextevent', (r) => f(r.lh_product_without?.performance)],
  ['shop product page: TBT ms / CLS (goal ≤ 0.1)', (r) => `${f(r.lh_product?.tbt_ms)} / ${f(r.lh_product?.cls, 3)}`],
  ['… without nextevent: TBT ms / CLS', (r) => `${f(r.lh_product_without?.tbt_ms)} / ${f(r.lh_product_without?.cls, 3)}`],
  ['shop product page: LCP ms (Lighthouse, simulated)', (r) => `${f(r.lh_product?.lcp_ms)} (without: ${f(r.lh_product_without?.lcp_ms)})`],
  ['demo: Lighthouse performance (goal ≥ 90)', (r) => f(r.lh_demo?.performance)],
  ['demo: LCP ms (goal ≤ 2,500) / TBT ms / CLS', (r) => `${f(r.lh_demo?.lcp_ms)} / ${f(r.lh_demo?.tbt_ms)} / ${f(r.lh_demo?.cls, 3)}`],
  ['… each run\'s performance, TBT ms', (r) => r.lh_demo.runs.map((x) => `${f(x.performance)}, ${f(x.tbt_ms)}`).join('; ')],
  ['demo in Chromium, cold: LoAF blocking ms until the first prediction / long frames / longest ms', (r) => (r.demo ? `${f(r.demo.blocking_ms)} / ${f(r.demo.long_frames)} / ${f(r.demo.longest_ms)}` : '—')],
  ['demo: navigation → first prediction ms / model load on the page\'s thread ms', (r) => (r.demo ? `${f(r.demo.first_prediction_ms)} / ${f(r.demo.model_load_ms)}` : '—')],
  ['accessibility: demo / product page (goal 100)', (r) => `${f(r.lh_demo?.accessibility)} / ${f(r.lh_product?.accessibility)}`],
  ['accessibility: every shop page', (r) => Object.entries(r.a11y_shop ?? {}).map(([p, x]) => `${p.replace('shop/', '')} ${f(x.score)}${x.failing.length ? ` (${x.failing.join(', ')})` : ''}`).join('; ')],
  ['LoAF blocking ms, load + 100 events: with / without nextevent', (r) => `${f(r.loaf.with.blocking_ms)} / ${f(r.loaf.without.blocking_ms)}`],
  // Chromium leaves `scripts[]` empty for wasm compilation and for module/worker work, so the
  // with − without difference is the measure of what nextevent adds; the attributed part is shown too.
  ['… blocking added by nextevent, with − without (goal 0)', (r) => f(r.loaf.with.blocking_ms - r.loaf.without.blocking_ms)],
  ['… of it attributed to /embed/ scripts by LoAF (ms / frames)', (r) => `${f(r.loaf.with.ours_script_ms)} / ${f(r.loaf.with.ours_long_frames)}`],
  ['navigation → ready, 2nd page, warm cache, eager, ms (goal ≤ 100)', (r) => f(r.second_page_ready_ms)],
  ['… on the way: DOMContentLoaded / element defined / wasm read / compiled, ms', (r) => (r.second_page_steps_ms ? ['dcl', 'defined', 'wasm_read', 'compiled'].map((k) => f(r.second_page_steps_ms[k])).join(' / ') : '—')],
  ['product page LCP cold ms: with / without (goal ≤ +5 %)', (r) => `${f(r.lcp_cold_ms.with)} / ${f(r.lcp_cold_ms.without)} (${r.lcp_cold_ms.without ? `${f((r.lcp_cold_ms.with / r.lcp_cold_ms.without - 1) * 100, 1)} %` : '—'})`],
  ['worker scripts, bytes raw / brotli', (r) => Object.values(r.worker_bytes).some(Boolean) ? `${Object.values(r.worker_bytes).reduce((a, x) => a + (x?.raw ?? 0), 0)} / ${Object.values(r.worker_bytes).reduce((a, x) => a + (x?.br ?? 0), 0)}` : 'none'],
];
console.log(`\nmedians of ${saved?.runs ?? RUNS} runs; ${saved?.at ?? new Date().toISOString()}\n`);
console.log(`| | ${results.map((r) => r.label).join(' | ')} |`);
console.log(`|---|${results.map(() => '---').join('|')}|`);
// A row a run did not measure (--demo-only, an older --json file) prints '—'; a row no build has is left out.
const cell = (fn, r) => { try { return fn(r); } catch { return '—'; } };
for (const [name, fn] of rows) {
  const cells = results.map((r) => cell(fn, r));
  if (cells.some((c) => !/^[—\s/()%,:;a-z.]*$/.test(c))) console.log(`| ${name} | ${cells.join(' | ')} |`);
}
if (JSON_OUT && !saved) writeFileSync(JSON_OUT, JSON.stringify({ runs: RUNS, at: new Date().toISOString(), results }, null, 2));
