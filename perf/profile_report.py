"""Sets tract's per-node profile (target/score-bench/profile-tract-*.json, from `cargo bench
--bench profile --features data`) beside onnxruntime's (profile-ort-*.json, from
perf/profile_ort.py; perf/score.sh alternates three runs of each), grouped by the model's
stages, at batch 256 and batch 2 on one thread, and writes the `profile` part of BENCHMARKS.md.
Run by perf/score.sh."""
import datetime, json, os, pathlib, re

root = pathlib.Path(__file__).resolve().parent.parent
d = root / "target" / "score-bench"


def lowest(pattern):
    """The runs perf/score.sh alternated, merged: each node's lowest median, each whole run's
    lowest median (a shared machine only ever adds time)."""
    runs = [json.loads(p.read_text()) for p in sorted(d.glob(pattern))]
    if not runs:
        raise SystemExit(f"no {pattern} in {d}: run perf/score.sh")
    out = dict(runs[0])
    out["runs"] = len(runs)
    for key, v in runs[0].items():
        if not isinstance(v, dict) or "nodes" not in v:
            continue
        merged = dict(v)
        merged["us_per_run"] = min(r[key]["us_per_run"] for r in runs)
        best = {}
        for r in runs:
            for n in r[key]["nodes"]:
                k = (n["node"], n["op"])
                best[k] = min(best.get(k, float("inf")), n["us_per_run"])
        merged["nodes"] = [{"node": k[0], "op": k[1], "us_per_run": u} for k, u in best.items()]
        out[key] = merged
    return out


tract = lowest("profile-tract-*.json")
ort = lowest("profile-ort-*.json")
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")

STAGES = [
    "GRU, both directions",
    "Conv1d k3 + ReLU (tract: im2col, then one product per window)",
    "layout copies (Transpose / MoveAxis)",
    "brand embedding + concat",
    "heads (two Gemm, Softmax, Sigmoid) and the skip input",
    "initial state h0",
    "DequantizeLinear (tract folds it at load)",
    "other",
]


def stage(node, op):
    if op in ("MoveAxis", "Transpose"):
        return STAGES[2]
    if op == "DequantizeLinear":
        return STAGES[6]
    if node.startswith("gru"):
        return STAGES[0]
    if node.startswith("conv") and not node.startswith("conversion"):
        return STAGES[1]
    if node in ("x", "brand_embedding") or node.startswith("embedding"):
        return STAGES[3]
    if node.startswith("h0"):
        return STAGES[5]
    if node.split(".")[0] in ("logits", "conversion_logit", "conversion", "probabilities", "h",
                              "last_event", "last_event_n1f", "h_skip") or node.startswith("fused conversion"):
        return STAGES[4]
    return STAGES[7]


def grouped(nodes):
    g = dict.fromkeys(STAGES, 0.0)
    for r in nodes:
        g[stage(r["node"], r["op"])] += r["us_per_run"]
    return g


lines = [
    f"Measured {datetime.date.today()} on {cpu} ({os.cpu_count()} cores), one thread, the shipped "
    f"int8 model, windows of the real sample. Commands: `cargo bench --bench profile --features data` "
    f"(each node of tract's any-batch plan timed: the {len(tract['batch256']['nodes'])} it evaluates per run) and "
    f"`python3 perf/profile_ort.py` (onnxruntime {ort['onnxruntime']}'s `enable_profiling`, graph "
    f"optimisation all: kernel time per node); µs per run, each the median of 40 runs, the lowest of "
    f"{tract['runs']} such runs per side, alternated. "
    f"onnxruntime's profiler adds a few µs per node, which shows at batch 2; the last row is timed without it.",
    "",
]
for batch in (256, 2):
    t, o = tract[f"batch{batch}"], ort[f"batch{batch}"]
    gt, go = grouped(t["nodes"]), grouped(o["nodes"])
    lines += [
        f"| batch {batch}: stage | tract µs | onnxruntime µs | tract − ort µs |",
        "|---|---:|---:|---:|",
    ]
    for s in STAGES:
        if gt[s] == 0 and go[s] == 0:
            continue
        lines.append(f"| {s} | {gt[s]:,.1f} | {go[s]:,.1f} | {gt[s] - go[s]:+,.1f} |")
    st, so = sum(gt.values()), sum(go.values())
    lines.append(f"| sum of the nodes (profiled) | {st:,.1f} | {so:,.1f} | {st - so:+,.1f} |")
    lines.append(f"| **whole run, not profiled (median)** | **{t['us_per_run']:,.1f}** | "
                 f"**{o['us_per_run']:,.1f}** | **{t['us_per_run'] - o['us_per_run']:+,.1f}** |")
    lines.append("")
alt = tract.get("conv_matmul_batch256")
if alt:
    lines.append(
        f"Experiment (`python3 perf/conv_as_matmul.py`, not shipped): the same model with its Conv1d "
        f"written as a graph-level im2col (Pad, three Slices, Concat, one MatMul over [N·16, 87]) runs at "
        f"{256e6 / alt['us_per_run']:,.0f} windows/s (best run) in tract at batch 256 against {256e6 / tract['batch256']['us_per_run']:,.0f} "
        f"for the shipped graph in the same runs (max |Δp| {alt['max_abs_diff']:.1e})"
        + (": tract splits the Concat-fed product back into one product and one Add per slice."
           if any("concat-einsum-k" in r["node"] and r["node"].startswith("conv.mm") for r in alt["nodes"]) else "."))
md = root / "BENCHMARKS.md"
text = md.read_text()
block = "<!-- profile:start -->\n" + "\n".join(lines).rstrip() + "\n<!-- profile:end -->"
if "<!-- profile:start -->" in text:
    text = re.sub(r"<!-- profile:start -->.*<!-- profile:end -->", lambda _: block, text, flags=re.S)
else:
    text = text.replace("<!-- score:end -->", "<!-- score:end -->\n\n### Where the prediction stage's time goes (per operator)\n\n" + block, 1)
md.write_text(text)
print("\n".join(lines))
