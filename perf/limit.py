"""The limit: multiply-adds per prediction of the shipped model (from its ONNX metadata) against
this CPU's measured single-core f32 peak (numpy/OpenBLAS sgemm, one thread), next to the
measured latencies (target/bench-browser.json from perf/run.mjs, criterion's output from
perf/native.sh). Writes BENCHMARKS.md's `limit` part.   python3 perf/limit.py"""
import json, os, re, sys, time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np

raw = open("models/nextevent.onnx", "rb").read()
spec = json.loads(re.search(rb'\{"version":1,"window".*?\}(?=[^,}\]])', raw).group(0))
arch = re.search(rb"brand embedding (\d+)\xc3\x97(\d+) \xe2\x86\x92 Conv1d k(\d+) (\d+) ch \+ ReLU \xe2\x86\x92 BiGRU hidden (\d+)", raw)
buckets, emb, k, ch, h = map(int, arch.groups())
T, F = spec["window"], len(spec["features"])
c_in = F + emb
conv = T * ch * c_in * k                 # same-padded Conv1d over T steps
gru_dir = T * (3 * h * ch + 3 * h * h)   # input and recurrent transforms, z r h gates, per step
gru = 2 * gru_dir                        # two directions
head = 2 * h * 4
macs = conv + gru + head
nonlin = T * 2 * 3 * h                   # sigmoid/tanh per gate unit per step, both directions

def peak(n=1024, reps=12):
    a = np.random.rand(n, n).astype(np.float32); b = np.random.rand(n, n).astype(np.float32)
    a @ b
    best = min((lambda: (lambda t0: (a @ b, time.perf_counter() - t0)[1])(time.perf_counter()))() for _ in range(reps))
    return n ** 3 / best  # MAC/s
p = peak()
lines = [
    f"Shipped model (from its ONNX metadata): T = {T}, {F} features + brand embedding {emb} → Conv1d k{k} {ch} ch → BiGRU hidden {h} (two directions) → dense 4.",
    "",
    "| part | multiply-adds per prediction |", "|---|---:|",
    f"| Conv1d: T × {ch} × ({F}+{emb}) × {k} | {conv:,} |",
    f"| BiGRU: 2 directions × T × (3·{h}·{ch} + 3·{h}·{h}) | {gru:,} |",
    f"| dense head: {2*h} × 4 | {head:,} |",
    f"| **total** | **{macs:,}** (+ {nonlin:,} sigmoid/tanh) |",
    "",
    f"This CPU's single-core f32 peak, measured as numpy {np.__version__} sgemm 1024³ with one thread: **{p / 1e9:.1f} G multiply-adds/s**. At that rate one prediction would take **{macs / p * 1e6:.1f} µs** and a 256-window batch {256 * macs / p * 1e3:.2f} ms. wasm SIMD has 4 lanes and no fused multiply-add (native AVX2 has 8 lanes with FMA), so the browser's ceiling is lower still, between a half and a quarter of that.",
]
try:
    b = json.load(open("target/bench-browser.json"))
    l, t = b["latency"], b["throughput"]
    ours = l["ours_run"]["p50"] / 1e3; orta = l["ort_all"]["p50"] / 1e3
    lines += ["",
        "| measured | time | multiply-adds/s achieved | share of the native sgemm peak |", "|---|---:|---:|---:|",
        f"| browser, ours, batch 1 p50 | {ours * 1e6:.0f} µs | {macs / ours / 1e9:.2f} G | {macs / ours / p * 100:.1f} % |",
        f"| browser, onnxruntime-web, batch 1 p50 | {orta * 1e6:.0f} µs | {macs / orta / 1e9:.2f} G | {macs / orta / p * 100:.1f} % |",
        f"| browser, ours, batch 256 | {1e6 / t['ours']['windows_per_s']:.1f} µs per window | {macs * t['ours']['windows_per_s'] / 1e9:.2f} G | {macs * t['ours']['windows_per_s'] / p * 100:.1f} % |",
        f"| browser, onnxruntime-web, batch 256 | {1e6 / t['ort_all']['windows_per_s']:.1f} µs per window | {macs * t['ort_all']['windows_per_s'] / 1e9:.2f} G | {macs * t['ort_all']['windows_per_s'] / p * 100:.1f} % |",
    ]
except FileNotFoundError:
    lines += ["", "(run `node perf/run.mjs` first for the browser rows)"]
try:
    txt = open("target/bench-native/predict.txt", errors="replace").read()
    m = re.search(r"batch 256/model run only\s+time:\s+\[\S+ \S+ (\S+) (\S+)", txt)
    unit = {"ns": 1e-9, "µs": 1e-6, "ms": 1e-3, "s": 1}[m.group(2)]
    s = float(m.group(1)) * unit / 256
    m1 = re.search(r"batch 1/model run only\s+time:\s+\[\S+ \S+ (\S+) (\S+)", txt)
    s1 = float(m1.group(1)) * {"ns": 1e-9, "µs": 1e-6, "ms": 1e-3, "s": 1}[m1.group(2)]
    lines += [f"| native tract, batch 1 | {s1 * 1e6:.0f} µs | {macs / s1 / 1e9:.2f} G | {macs / s1 / p * 100:.1f} % |",
              f"| native tract, batch 256 | {s * 1e6:.1f} µs per window | {macs / s / 1e9:.2f} G | {macs / s / p * 100:.1f} % |"]
except (FileNotFoundError, AttributeError):
    lines += ["", "(run `bash perf/native.sh` first for the native rows)"]
lines += ["",
    "Reading: at batch 1 the GRU is 32 strictly sequential steps of small (96×32) matrix-vector products, so latency is set by per-step and per-call overhead (scheduling tract's ops, copying inputs in and out of wasm), not by arithmetic: both runtimes sit at a few per cent of the peak. Batching turns the products into matrix-matrix ones and moves both closer to it."]
text = "\n".join(lines)
print(text)
doc = open("BENCHMARKS.md").read()
doc = re.sub(r"<!-- limit:start -->.*<!-- limit:end -->", lambda _: f"<!-- limit:start -->\n{text}\n<!-- limit:end -->", doc, flags=re.S)
open("BENCHMARKS.md", "w").write(doc)
