// The benchmark page's functions (driven by perf/run.mjs through page.evaluate). One runtime
// per page load for cold start; both in one page for parity, latency, throughput and memory.
const ORT_DIR = '/node_modules/onnxruntime-web/dist/';
const MODEL = '/models/nextevent.onnx';
// Our package: the embed build by default, or a variant from perf/size-steps.sh (?pkg=…/).
const PKG = new URLSearchParams(location.search).get('pkg') ?? '/dist/embed/';

// Every WebAssembly.Memory a module exports, captured as modules are instantiated, so the
// memory of both runtimes can be read the same way.
const memories = [];
for (const name of ['instantiate', 'instantiateStreaming']) {
  const orig = WebAssembly[name];
  WebAssembly[name] = async function (...args) {
    const r = await orig.apply(this, args);
    const inst = r.instance ?? r;
    for (const v of Object.values(inst.exports ?? {})) if (v instanceof WebAssembly.Memory) memories.push(v);
    return r;
  };
}
// Memories created by JS (emscripten modules such as ORT's import theirs) are captured too.
const OrigMemory = WebAssembly.Memory;
WebAssembly.Memory = function (desc) {
  const m = new OrigMemory(desc);
  memories.push(m);
  return m;
};
WebAssembly.Memory.prototype = OrigMemory.prototype;
const wasmBytes = () => [...new Set(memories)].reduce((a, m) => a + m.buffer.byteLength, 0);

let ours = null; // { mod, predictor }
let ort = null; // { ort, sessions: { basic, all } }

async function loadOurs() {
  const t0 = performance.now();
  const mod = await import(`${PKG}nextevent.js`);
  const t1 = performance.now();
  const wasm = await mod.default(); // fetch + compile + instantiate the wasm
  const t2 = performance.now();
  const predictor = new mod.Predictor(); // model: decode, spec check, parse, optimize
  const t3 = performance.now();
  ours = { mod, predictor, memory: wasm.memory };
  return { js_ms: t1 - t0, wasm_ms: t2 - t1, model_ms: t3 - t2 };
}

async function loadOrt(levels = ['basic', 'all']) {
  const t0 = performance.now();
  const mod = await import(ORT_DIR + 'ort.wasm.min.mjs');
  const t1 = performance.now();
  mod.env.wasm.numThreads = 1;
  mod.env.wasm.wasmPaths = ORT_DIR;
  mod.env.wasm.proxy = false;
  const model = new Uint8Array(await (await fetch(MODEL)).arrayBuffer());
  const t2 = performance.now();
  const sessions = {};
  const times = {};
  for (const level of levels) {
    const s0 = performance.now();
    sessions[level] = await mod.InferenceSession.create(model, { executionProviders: ['wasm'], graphOptimizationLevel: level });
    times[level] = performance.now() - s0;
  }
  ort = { ort: mod, sessions };
  return { js_ms: t1 - t0, model_fetch_ms: t2 - t1, session_ms: times, version: mod.env.versions?.web ?? mod.env.versions?.common };
}

/** Values of one window's `features` (T = 16 events × 21 features, spec version 2). */
const F = 16 * 21;

function slice(enc, i, n = 1) {
  return {
    n,
    features: enc.features.subarray(i * F, (i + n) * F),
    brands: enc.brands.subarray(i * 16, (i + n) * 16),
  };
}

async function runOrt(level, b) {
  const o = ort.ort;
  const feeds = {
    features: new o.Tensor('float32', b.features, [b.n, 16, 21]),
    brand_bucket: new o.Tensor('int64', b.brands, [b.n, 16]),
  };
  const out = await ort.sessions[level].run(feeds);
  return out[ort.sessions[level].outputNames[0]].data;
}

const runOurs = (b) => ours.predictor.run(b.features, b.brands);

function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

/** Same 1,000 encoded inputs through both runtimes: max |Δp| and argmax agreement. */
async function parity(sequences) {
  const enc = ours.predictor.encode(sequences);
  const a = runOurs(enc);
  const out = { n: enc.n, inputs: ort.sessions ? Object.keys(ort.sessions) : [] };
  for (const level of Object.keys(ort.sessions)) {
    const b = await runOrt(level, enc);
    let max = 0, agree = 0;
    for (let i = 0; i < enc.n; i++) {
      let ai = 0, bi = 0;
      for (let k = 0; k < 4; k++) {
        max = Math.max(max, Math.abs(a[i * 4 + k] - b[i * 4 + k]));
        if (a[i * 4 + k] > a[i * 4 + ai]) ai = k;
        if (b[i * 4 + k] > b[i * 4 + bi]) bi = k;
      }
      if (ai === bi) agree++;
    }
    out[level] = { max_abs_diff: max, argmax_agreement: agree / enc.n };
  }
  return out;
}

/** Latency of one prediction (batch 1) over `rounds` passes of the inputs, interleaved. */
async function latency(sequences, rounds = 3) {
  const enc = ours.predictor.encode(sequences);
  const t = { ours_run: [], ours_end_to_end: [], ours_session_observe: [] };
  for (const level of Object.keys(ort.sessions)) t[`ort_${level}`] = [];
  // Warm-up: every path once per input.
  for (let i = 0; i < enc.n; i++) {
    runOurs(slice(enc, i));
    for (const level of Object.keys(ort.sessions)) await runOrt(level, slice(enc, i));
  }
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < enc.n; i++) {
      const b = slice(enc, i);
      let s = performance.now();
      runOurs(b);
      t.ours_run.push(performance.now() - s);
      s = performance.now();
      ours.predictor.predict(sequences[i]);
      t.ours_end_to_end.push(performance.now() - s);
      for (const level of Object.keys(ort.sessions)) {
        s = performance.now();
        await runOrt(level, b);
        t[`ort_${level}`].push(performance.now() - s);
      }
    }
  }
  // A live session: observe() encodes the kept events and predicts, as a shop page calls it.
  const session = new ours.mod.Session({ target: null });
  // Each sequence is replayed into a cleared session; its last observe() is timed.
  for (let r = 0; r < rounds; r++) {
    for (const seq of sequences) {
      session.clear();
      for (const e of seq.slice(0, -1)) session.observe(e);
      const s = performance.now();
      session.observe(seq[seq.length - 1]);
      t.ours_session_observe.push(performance.now() - s);
    }
  }
  return Object.fromEntries(Object.entries(t).map(([k, xs]) => [k, { n: xs.length, p50: quantile(xs, 0.5), p95: quantile(xs, 0.95), mean: xs.reduce((a, b) => a + b, 0) / xs.length }]));
}

/** Windows per second at batch 256, best of `reps` timed passes after one warm-up. */
async function throughput(sequences, reps = 20) {
  const enc = ours.predictor.encode(sequences.slice(0, 256));
  const out = {};
  const time = async (f) => {
    await f();
    let best = Infinity;
    for (let r = 0; r < reps; r++) {
      const s = performance.now();
      await f();
      best = Math.min(best, performance.now() - s);
    }
    return { batch_ms: best, windows_per_s: (256 / best) * 1000 };
  };
  out.ours = await time(() => runOurs(enc));
  for (const level of Object.keys(ort.sessions)) out[`ort_${level}`] = await time(() => runOrt(level, enc));
  return out;
}

/** Wasm memory of each runtime before and after `n` batch-1 predictions. */
async function memory(sequences, n = 100000) {
  const enc = ours.predictor.encode(sequences);
  const theirs = [...new Set(memories)].filter((m) => m !== ours.memory);
  const ortBytes = () => theirs.reduce((a, m) => a + m.buffer.byteLength, 0);
  const level = Object.keys(ort.sessions).includes('all') ? 'all' : Object.keys(ort.sessions)[0];
  const out = { n, ours_before: ours.memory.buffer.byteLength, ort_before: ortBytes(), ort_memories: theirs.length };
  for (let i = 0; i < n; i++) runOurs(slice(enc, i % enc.n));
  out.ours_after = ours.memory.buffer.byteLength;
  for (let i = 0; i < n; i++) await runOrt(level, slice(enc, i % enc.n));
  out.ort_after = ortBytes();
  return out;
}

/** Cold start of one runtime on a fresh page: navigation → first prediction, split. */
async function cold(which, sequence) {
  const nav = performance.getEntriesByType('navigation')[0];
  let split;
  let first;
  if (which === 'ours') {
    split = await loadOurs();
    const s = performance.now();
    ours.predictor.predict(sequence);
    split.first_run_ms = performance.now() - s;
    first = performance.now();
  } else {
    split = await loadOrt(['all']);
    const enc = { n: 1, features: new Float32Array(F), brands: new BigInt64Array(16) };
    const s = performance.now();
    await runOrt('all', enc);
    split.first_run_ms = performance.now() - s;
    first = performance.now();
  }
  const resources = performance.getEntriesByType('resource').map((r) => ({ name: r.name.replace(location.origin, ''), bytes: r.encodedBodySize, end_ms: r.responseEnd }));
  return { which, page_loaded_ms: nav?.domContentLoadedEventEnd, first_prediction_ms: first, split, resources, wasm_memory_bytes: wasmBytes() };
}

window.bench = { loadOurs, loadOrt, parity, latency, throughput, memory, cold, wasmBytes, isolated: () => crossOriginIsolated };
window.benchReady = true;
