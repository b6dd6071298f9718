// The page-weight steps table: each variant of perf/size-steps.sh with its wasm + JS size
// (raw, gzip -9, brotli 11) and, when measured (`node perf/run.mjs --pkg …`), its speed.
//   node perf/steps.mjs      → prints the table, writes BENCHMARKS.md's `steps` part
import { readFileSync, readdirSync, existsSync, writeFileSync } from 'node:fs';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';
import { root } from '../tests/e2e/serve.mjs';

const dir = `${root}target/size-steps`;
const order = ['shipped', 'no-wasm-opt', 'wasm-opt-O3', 'opt-s', 'opt-3', 'tract-3', 'no-lto', 'no-simd'];
const variants = readdirSync(dir).filter((v) => existsSync(`${dir}/${v}/variant.json`))
  .sort((a, b) => order.indexOf(a) - order.indexOf(b));
const n = (x) => Math.round(x).toLocaleString('en-US');
const rows = variants.map((v) => {
  const meta = JSON.parse(readFileSync(`${dir}/${v}/variant.json`, 'utf8'));
  let raw = 0, gzip = 0, brotli = 0;
  for (const f of ['nextevent_bg.wasm', 'nextevent.js']) {
    const b = readFileSync(`${dir}/${v}/${f}`);
    raw += b.length; gzip += gzipSync(b, { level: 9 }).length;
    brotli += brotliCompressSync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
  }
  const speedFile = `${root}target/bench-browser-${v}.json`;
  const speed = existsSync(speedFile) ? JSON.parse(readFileSync(speedFile, 'utf8')) : null;
  const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return { v, meta, raw, gzip, brotli,
    p50: speed?.latency.ours_run.p50, thr: speed?.throughput.ours.windows_per_s,
    load: speed ? med(speed.cold.ours.map((c) => c.split.model_ms)) : undefined,
    cold: speed ? med(speed.cold.ours.map((c) => c.first_prediction_ms)) : undefined };
});
const base = rows.find((r) => r.v === 'shipped');
const d = (x, b) => (b ? `${x >= b ? '+' : ''}${(((x - b) / b) * 100).toFixed(1)} %` : '');
const f = (x, k = 3) => (x === undefined ? '–' : x.toFixed(k));
const text = [
  `Each row is the embed package (wasm + JS; the model is inside the wasm) built with one setting changed from the shipped build. Sizes: \`bash perf/size-steps.sh && node perf/steps.mjs\`; speed: \`node perf/run.mjs --quick --pkg /target/size-steps/<variant>/\` (1,000 batch-1 calls, best of 5 batch-256 passes, 2 cold starts; same machine as section 1, same session per variant, so compare rows loosely).`,
  '',
  '| variant | opt-level | LTO / codegen-units | wasm-opt | simd128 | raw bytes | gzip | brotli | gzip vs shipped | batch-1 p50 (ms) | batch 256 (windows/s) | cold: model load (ms) | cold: first prediction (ms) |',
  '|---|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.v} | ${r.meta.opt_level} | ${r.meta.lto} / ${r.meta.codegen_units} | ${r.meta.wasm_opt} | ${r.meta.simd128 ? 'on' : 'off'} | ${n(r.raw)} | ${n(r.gzip)} | ${n(r.brotli)} | ${r === base ? '' : d(r.gzip, base?.gzip)} | ${f(r.p50)} | ${r.thr ? n(r.thr) : '–'} | ${f(r.load, 0)} | ${f(r.cold, 0)} |`),
];
console.log(text.join('\n'));
const md = `${root}BENCHMARKS.md`;
let doc = readFileSync(md, 'utf8');
if (!doc.includes('<!-- steps:start -->')) doc = doc.replace('<!-- weight:end -->', '<!-- weight:end -->\n\n### What each build setting does\n\n<!-- steps:start -->\n<!-- steps:end -->');
doc = doc.replace(/<!-- steps:start -->[\s\S]*<!-- steps:end -->/, `<!-- steps:start -->\n${text.join('\n')}\n<!-- steps:end -->`);
writeFileSync(md, doc);
