"""What perf/score_ort.py and perf/profile_ort.py share: the encoded windows and the ONNX file
`cargo bench --bench score` wrote to target/score-bench/, and onnxruntime's session set up as
the benchmarks compare it (graph optimisation all, intra- = inter-op threads = ours)."""
import pathlib
import numpy as np
import onnxruntime as ort

DIR = pathlib.Path(__file__).resolve().parent.parent / "target" / "score-bench"
WINDOW, FEATURES = 16, 21


def inputs():
    """(n, features [n, 16, 21] f32, brand buckets [n, 16] i64) from inputs.bin: n, then the
    features (f32 LE), then the brands (i64 LE)."""
    raw = (DIR / "inputs.bin").read_bytes()
    n = int.from_bytes(raw[:8], "little")
    feat = np.frombuffer(raw, dtype="<f4", count=n * WINDOW * FEATURES, offset=8).reshape(n, WINDOW, FEATURES)
    brands = np.frombuffer(raw, dtype="<i8", count=n * WINDOW, offset=8 + n * WINDOW * FEATURES * 4).reshape(n, WINDOW)
    return n, feat, brands


def options(threads):
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = threads
    return so


def session(so):
    return ort.InferenceSession(str(DIR / "model.onnx"), so, providers=["CPUExecutionProvider"])
