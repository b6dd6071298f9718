// Page weight: every byte a first visit downloads, raw / gzip -9 / brotli 11, for the demo
// (dist/), the embed package (dist/embed/) and onnxruntime-web's files for the same job
// (its wasm-only ESM entry, its loader, its SIMD wasm, plus our model, which ORT must fetch).
//   trunk build && node perf/sizes.mjs      → prints the table, writes BENCHMARKS.md's part
import { readFileSync, readdirSync, existsSync, writeFileSync } from 'node:fs';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';
import { root } from '../tests/e2e/serve.mjs';

const weigh = (dir, files) => files.map((f) => {
  const b = readFileSync(`${dir}/${f}`);
  return { file: f, raw: b.length, gzip: gzipSync(b, { level: 9 }).length, brotli: brotliCompressSync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length };
});
const sum = (rows) => rows.reduce((a, r) => ({ raw: a.raw + r.raw, gzip: a.gzip + r.gzip, brotli: a.brotli + r.brotli }), { raw: 0, gzip: 0, brotli: 0 });
const dist = `${root}dist`;
const ortDir = `${root}node_modules/onnxruntime-web/dist`;
const ortVersion = JSON.parse(readFileSync(`${root}node_modules/onnxruntime-web/package.json`, 'utf8')).version;
const demo = weigh(dist, readdirSync(dist).filter((f) => /\.(html|js|wasm|css|svg)$/.test(f)));
const embed = weigh(dist, ['embed/nextevent.js', 'embed/nextevent_bg.wasm', 'embed/next-event-predictor.js']);
const ort = [...weigh(ortDir, ['ort.wasm.min.mjs', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm']), ...weigh(`${root}models`, ['nextevent.onnx'])];
const [d, e, o] = [sum(demo), sum(embed), sum(ort)];
const n = (x) => x.toLocaleString('en-US');
const line = (name, s) => `| ${name} | ${n(s.raw)} | ${n(s.gzip)} | ${n(s.brotli)} |`;
const text = [
  `Measured ${new Date().toISOString().slice(0, 10)} with \`trunk build && node perf/sizes.mjs\` (gzip -9 and brotli 11 by Node's zlib; onnxruntime-web ${ortVersion} from npm).`,
  '',
  '| download | raw bytes | gzip | brotli |',
  '|---|---:|---:|---:|',
  ...demo.map((r) => line(`demo: \`${r.file}\``, r)),
  line('**demo page, total**', d),
  ...embed.map((r) => line(`embed: \`${r.file}\``, r)),
  line('**embed package, total** (model inside the wasm)', e),
  ...ort.map((r) => line(`ORT: \`${r.file}\``, r)),
  line('**onnxruntime-web + model, total**', o),
  '',
  `Ratios, embed package / onnxruntime-web + model: raw ${(e.raw / o.raw).toFixed(3)}×, gzip ${(e.gzip / o.gzip).toFixed(3)}×, brotli ${(e.brotli / o.brotli).toFixed(3)}× (the whole demo page, UI included: gzip ${(d.gzip / o.gzip).toFixed(3)}×). ORT's numbers count only its runtime; a page using it still needs its own encoder and UI.`,
];
console.log(text.join('\n'));
const md = `${root}BENCHMARKS.md`;
let doc = existsSync(md) ? readFileSync(md, 'utf8') : '# Benchmarks\n';
if (!doc.includes('<!-- weight:start -->')) doc += '\n<!-- weight:start -->\n<!-- weight:end -->\n';
doc = doc.replace(/<!-- weight:start -->[\s\S]*<!-- weight:end -->/, `<!-- weight:start -->\n${text.join('\n')}\n<!-- weight:end -->`);
writeFileSync(md, doc);
