// Browser benchmark: nextevent (tract, our wasm) against onnxruntime-web (wasm backend, one
// thread, SIMD) on the same model and inputs, in one headless Chromium session.
//   trunk build            # builds dist/embed (our wasm + JS API)
//   node perf/run.mjs [--quick]
// Prints a table with the ratio ours/theirs for each figure and writes it into BENCHMARKS.md
// (between the `browser` markers). Inputs: 1,000 prefixes of real sessions from
// ../shared/data/cosmetics-sample.csv.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { serve, launch, root } from '../tests/e2e/serve.mjs';

const quick = process.argv.includes('--quick');
// --pkg /target/size-steps/<variant>/: measure a variant build (perf/size-steps.sh) instead of
// dist/embed; its figures go to target/bench-browser-<variant>.json, not to BENCHMARKS.md.
const pkgAt = process.argv.indexOf('--pkg');
const pkg = pkgAt > 0 ? process.argv[pkgAt + 1] : null;
const variant = pkg ? pkg.replace(/\/$/, '').split('/').pop() : null;
if (!existsSync(`${root}dist/embed/nextevent.js`)) {
  console.error('dist/embed/nextevent.js is missing: run `trunk build` first (it builds the embed package).');
  process.exit(2);
}

/** Prefix windows of real sessions: for each session (by time), every prefix of ≥ 1 event. */
function sequences(n) {
  const lines = readFileSync(`${root}../shared/data/cosmetics-sample.csv`, 'utf8').trim().split('\n');
  const head = lines[0].split(',');
  const col = (c) => head.indexOf(c);
  const bySession = new Map();
  let skipped = 0;
  for (const line of lines.slice(1)) {
    const f = line.split(',');
    if (f.length !== head.length) { skipped++; continue; }
    const price = Number(f[col('price')]);
    if (!(price >= 0)) { skipped++; continue; }
    const e = {
      event_time: f[col('event_time')], event_type: f[col('event_type')], product_id: Number(f[col('product_id')]),
      price, brand: f[col('brand')] || null,
    };
    const k = f[col('user_session')];
    if (!bySession.has(k)) bySession.set(k, []);
    bySession.get(k).push(e);
  }
  const out = [];
  for (const s of bySession.values()) {
    s.sort((a, b) => a.event_time.localeCompare(b.event_time));
    for (let i = 1; i <= s.length; i++) out.push(s.slice(Math.max(0, i - 16), i));
  }
  // Spread the picks over all sessions, deterministically.
  const step = out.length / n;
  return { seqs: Array.from({ length: Math.min(n, out.length) }, (_, i) => out[Math.floor(i * step)]), skipped, available: out.length };
}

const { seqs, skipped, available } = sequences(1000);
// --report: re-render BENCHMARKS.md from the last run's target/bench-browser.json.
const reportOnly = process.argv.includes('--report');
let result = { machine: {}, inputs: { sequences: seqs.length, available, skipped_rows: skipped } };
if (reportOnly) result = JSON.parse(readFileSync(`${root}target/bench-browser.json`, 'utf8'));
else {
const server = await serve(root, {
  // Cross-origin isolation: 5 µs timer resolution instead of 100 µs.
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cache-Control': 'no-store',
});
const browser = await launch(['--enable-precise-memory-info']);
const url = `${server.url}perf/index.html${pkg ? `?pkg=${encodeURIComponent(pkg)}` : ''}`;
const fresh = async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(url);
  await page.waitForFunction(() => window.benchReady === true);
  return { context, page, errors };
};

try {
  const { context, page, errors } = await fresh();
  result.isolated = await page.evaluate(() => window.bench.isolated());
  result.load = { ours: await page.evaluate(() => window.bench.loadOurs()), ort: await page.evaluate(() => window.bench.loadOrt()) };
  result.parity = await page.evaluate((s) => window.bench.parity(s), seqs);
  console.log('parity', JSON.stringify(result.parity));
  result.latency = await page.evaluate(([s, r]) => window.bench.latency(s, r), [seqs, quick ? 1 : 3]);
  console.log('latency', JSON.stringify(result.latency));
  result.throughput = await page.evaluate(([s, r]) => window.bench.throughput(s, r), [seqs, quick ? 5 : 20]);
  console.log('throughput', JSON.stringify(result.throughput));
  result.memory = await page.evaluate(([s, n]) => window.bench.memory(s, n), [seqs, quick ? 10000 : 100000]);
  console.log('memory', JSON.stringify(result.memory));
  if (errors.length) throw new Error(`page errors: ${errors.join('\n')}`);
  await context.close();
  result.cold = { ours: [], ort: [] };
  for (let r = 0; r < (quick ? 2 : 7); r++) {
    for (const which of ['ours', 'ort']) {
      const c = await fresh();
      result.cold[which].push(await c.page.evaluate(([w, s]) => window.bench.cold(w, s), [which, seqs[seqs.length - 1]]));
      if (c.errors.length) throw new Error(`page errors: ${c.errors.join('\n')}`);
      await c.context.close();
    }
  }
  result.machine = {
    cpu: os.cpus()[0]?.model, cores: os.cpus().length, chromium: browser.version(),
    ort: JSON.parse(readFileSync(`${root}node_modules/onnxruntime-web/package.json`, 'utf8')).version,
    node: process.version, date: new Date().toISOString().slice(0, 10),
    commit: (() => { try { return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root }).toString().trim(); } catch { return '?'; } })(),
  };
} finally {
  await browser.close();
  server.stop();
}
writeFileSync(`${root}target/bench-browser${variant ? `-${variant}` : ''}.json`, JSON.stringify(result, null, 2));
}
if (variant) {
  console.log(`${variant}: p50 ${result.latency.ours_run.p50} ms, batch 256 ${result.throughput.ours.windows_per_s.toFixed(0)} windows/s`);
  process.exit(0);
}

// ---- report ----
const med = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const f = (x, d = 3) => (x === undefined || x === null ? '–' : Number.isInteger(x) || x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(d));
const ratio = (a, b) => (a && b ? `${(a / b).toFixed(2)}×` : '–');
const L = result.latency;
const T = result.throughput;
const coldOf = (w, g) => med(result.cold[w].map(g));
const rows = [
  ['latency p50, batch 1, encoded input (ms)', L.ours_run.p50, L.ort_all.p50, L.ort_basic.p50],
  ['latency p95, batch 1, encoded input (ms)', L.ours_run.p95, L.ort_all.p95, L.ort_basic.p95],
  ['end to end from raw events p50, `Predictor.predict` (ms)', L.ours_end_to_end.p50, null, null],
  ['end to end, `Session.observe` p50 (ms)', L.ours_session_observe.p50, null, null],
  ['throughput, batch 256 (windows/s)', T.ours.windows_per_s, T.ort_all.windows_per_s, T.ort_basic.windows_per_s],
  ['cold start: navigation → first prediction, median (ms)', coldOf('ours', (c) => c.first_prediction_ms), coldOf('ort', (c) => c.first_prediction_ms), null],
  ['  page loaded (DOMContentLoaded, ms)', coldOf('ours', (c) => c.page_loaded_ms), coldOf('ort', (c) => c.page_loaded_ms), null],
  ['  wasm downloaded (responseEnd, ms from navigation)', coldOf('ours', (c) => c.resources.find((r) => r.name.endsWith('.wasm'))?.end_ms), coldOf('ort', (c) => c.resources.find((r) => r.name.endsWith('.wasm'))?.end_ms), null],
  ['  of which wasm fetch + compile + instantiate (ms)', coldOf('ours', (c) => c.split.wasm_ms), null, null],
  ['  of which model load: parse + optimize (ms)', coldOf('ours', (c) => c.split.model_ms), coldOf('ort', (c) => c.split.session_ms.all), null],
  ['  of which first run (ms)', coldOf('ours', (c) => c.split.first_run_ms), coldOf('ort', (c) => c.split.first_run_ms), null],
  ['bytes fetched by the cold page (wasm + JS + model, uncompressed)', med(result.cold.ours.map((c) => c.resources.filter((r) => !r.name.startsWith('/perf/')).reduce((a, r) => a + r.bytes, 0))), med(result.cold.ort.map((c) => c.resources.filter((r) => !r.name.startsWith('/perf/')).reduce((a, r) => a + r.bytes, 0))), null],
  [`wasm memory after ${result.memory.n.toLocaleString('en-US')} batch-1 predictions (bytes)`, result.memory.ours_after, result.memory.ort_after, null],
  ['  growth over those predictions (bytes)', result.memory.ours_after - result.memory.ours_before, result.memory.ort_after - result.memory.ort_before, null],
];
const table = [
  '| figure | nextevent (tract) | onnxruntime-web (opt. all) | ours / ORT | ORT (opt. basic) |',
  '|---|---:|---:|---:|---:|',
  ...rows.map(([name, a, b, c]) => `| ${name} | ${f(a)} | ${f(b)} | ${ratio(a, b)} | ${f(c)} |`),
];
const m = result.machine;
const p = result.parity;
const text = [
  `Measured ${m.date} (commit ${m.commit}) on ${m.cpu}, ${m.cores} cores, headless Chromium ${m.chromium}, onnxruntime-web ${m.ort} (wasm backend, \`numThreads = 1\`, SIMD build, not proxied), Node ${m.node}; page cross-origin isolated: ${result.isolated} (timer resolution 5 µs). Command: \`trunk build && node perf/run.mjs\`${quick ? ' --quick' : ''}.`,
  '',
  `Inputs: ${result.inputs.sequences} prefixes (last ≤ 16 events) of real sessions from \`../shared/data/cosmetics-sample.csv\`, encoded once by our encoder (\`Predictor.encode\`) and fed to both runtimes. Parity on all ${p.n}: ORT basic max |Δp| = ${p.basic.max_abs_diff.toExponential(2)} (argmax agreement ${(p.basic.argmax_agreement * 100).toFixed(1)} %), ORT all max |Δp| = ${p.all.max_abs_diff.toExponential(2)} (${(p.all.argmax_agreement * 100).toFixed(1)} %).`,
  '',
  ...table,
  '',
  `Latency: ${L.ours_run.n} timed calls per runtime, interleaved (ours, then each ORT session, input by input) after one warm-up pass; ORT's \`session.run\` is awaited. Throughput: best of the timed passes of one 256-window batch. Cold start: median of ${result.cold.ours.length} fresh browser contexts per runtime (empty cache, \`Cache-Control: no-store\`), measured from navigation start; ORT's split has no separate wasm line because its session creation compiles the wasm.`,
];
console.log('\n' + text.join('\n'));
const md = `${root}BENCHMARKS.md`;
let doc = existsSync(md) ? readFileSync(md, 'utf8') : '# Benchmarks\n\n<!-- browser:start -->\n<!-- browser:end -->\n';
doc = doc.replace(/<!-- browser:start -->[\s\S]*<!-- browser:end -->/, `<!-- browser:start -->\n${text.join('\n')}\n<!-- browser:end -->`);
writeFileSync(md, doc);
console.log(`\nwrote ${md} (raw figures: target/bench-browser.json)`);
