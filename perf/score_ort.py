"""onnxruntime on the same encoded inputs and the same ONNX file as `cargo bench --bench score`
(target/score-bench/): windows per second at batch 1 and 256, 1 and 2 threads (intra- and
inter-op threads equal to ours), graph optimisation level all. Writes target/score-bench/ort.json."""
import json, pathlib, time
import numpy as np
import onnxruntime as ort

d = pathlib.Path(__file__).resolve().parent.parent / "target" / "score-bench"
raw = (d / "inputs.bin").read_bytes()
n = int.from_bytes(raw[:8], "little")
T, F = 16, 21
feat = np.frombuffer(raw, dtype="<f4", count=n * T * F, offset=8).reshape(n, T, F)
brands = np.frombuffer(raw, dtype="<i8", count=n * T, offset=8 + n * T * F * 4).reshape(n, T)
out = {"onnxruntime": ort.__version__, "windows": n}


def _time(f):
    t = time.perf_counter()
    f()
    return time.perf_counter() - t



for threads in (1, 2):
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = threads
    s = ort.InferenceSession(str(d / "model.onnx"), so, providers=["CPUExecutionProvider"])
    for label, batch, windows in (("batch1", 1, 2000), ("batch256", 256, n)):
        def run():
            for i in range(0, windows, batch):
                s.run(None, {"features": feat[i:i + batch], "brand_bucket": brands[i:i + batch]})
        run()
        best = min(_time(run) for _ in range(5))
        out[f"{label}_threads{threads}"] = windows / best
        print(f"onnxruntime {label} threads {threads}: {windows / best:.0f} windows/s")
(d / "ort.json").write_text(json.dumps(out, indent=2))
