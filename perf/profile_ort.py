"""onnxruntime's own per-node profile of the file `cargo bench --bench score` wrote
(target/score-bench/model.onnx, its inputs.bin), at batch 256 and batch 2, one thread, graph
optimisation level all: each node's kernel time from `SessionOptions.enable_profiling`,
the median of 40 runs (and of 40 runs without the profiler for the whole run). Writes
target/score-bench/profile-ort.json (or the name given as its argument) for
perf/profile_report.py. Run after `cargo bench --bench score --features data` (see perf/score.sh)."""
import collections, json, os, pathlib, statistics, sys, tempfile, time
import onnxruntime as ort
from score_inputs import DIR as d, inputs, options, session

RUNS = 40
_, feat, brands = inputs()
report = {"onnxruntime": ort.__version__}
for batch in (256, 2):
    so = options(1)
    so.enable_profiling = True
    so.profile_file_prefix = os.path.join(tempfile.mkdtemp(), "ort")
    s = session(so)
    feeds = {"features": feat[:batch], "brand_bucket": brands[:batch]}
    for _ in range(5):  # warm-up, left out below
        s.run(None, feeds)
    for _ in range(RUNS):
        s.run(None, feeds)
    events = json.loads(pathlib.Path(s.end_profiling()).read_text())
    runs = [e for e in events if e.get("name") == "model_run"][-RUNS:]
    # Each node's kernel time in each of the last RUNS runs (its events lie inside the run's
    # span), then the median per node, as cargo bench --bench profile does for tract.
    per_node = collections.OrderedDict()
    for i, r in enumerate(runs):
        for e in events:
            if (e.get("cat") != "Node" or not e["name"].endswith("_kernel_time")
                    or not r["ts"] <= e["ts"] <= r["ts"] + r["dur"]):
                continue
            key = (e["name"][: -len("_kernel_time")], e.get("args", {}).get("op_name", "?"))
            per_node.setdefault(key, [0.0] * RUNS)[i] += e["dur"]
    run_us = statistics.median(r["dur"] for r in runs)
    # The same runs without the profiler, which costs a few µs per node.
    so.enable_profiling = False
    plain = session(so)
    for _ in range(5):
        plain.run(None, feeds)
    walls = []
    for _ in range(RUNS):
        t = time.perf_counter()
        plain.run(None, feeds)
        walls.append((time.perf_counter() - t) * 1e6)
    plain_us = statistics.median(walls)
    nodes = sorted(
        ({"node": k[0], "op": k[1], "us_per_run": statistics.median(v)} for k, v in per_node.items()),
        key=lambda r: -r["us_per_run"],
    )
    report[f"batch{batch}"] = {"us_per_run": plain_us, "profiled_us_per_run": run_us, "nodes": nodes}
    print(f"\n== onnxruntime batch {batch}: {plain_us:.1f} µs per run (median), {run_us:.1f} µs profiled (1 thread)")
    for r in nodes:
        print(f"{r['us_per_run']:>9.1f} {100 * r['us_per_run'] / run_us:>5.1f}%  {r['op']:<18} {r['node']}")
(d / (sys.argv[1] if len(sys.argv) > 1 else "profile-ort.json")).write_text(json.dumps(report, indent=2))
