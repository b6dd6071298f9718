"""onnxruntime on the same encoded inputs and the same ONNX file as `cargo bench --bench score`
(target/score-bench/): windows per second at batch 1 and 256, 1 and 2 threads (intra- and
inter-op threads equal to ours), graph optimisation level all. Writes target/score-bench/ort.json."""
import json, time
import onnxruntime as ort
from score_inputs import DIR as d, inputs, options, session

n, feat, brands = inputs()
out = {"onnxruntime": ort.__version__, "windows": n}


def _time(f):
    t = time.perf_counter()
    f()
    return time.perf_counter() - t


for threads in (1, 2):
    s = session(options(threads))
    for label, batch, windows in (("batch1", 1, 2000), ("batch256", 256, n)):
        def run():
            for i in range(0, windows, batch):
                s.run(None, {"features": feat[i:i + batch], "brand_bucket": brands[i:i + batch]})
        run()
        best = min(_time(run) for _ in range(5))
        out[f"{label}_threads{threads}"] = windows / best
        print(f"onnxruntime {label} threads {threads}: {windows / best:.0f} windows/s")
(d / "ort.json").write_text(json.dumps(out, indent=2))
