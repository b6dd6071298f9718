"""An experiment for the per-operator profile (BENCHMARKS.md §6): the shipped model with its
Conv1d (k3, pads 1) rewritten as a graph-level im2col — Pad the time axis, three shifted
Slices, Concat, one MatMul over [N·16, 87], Add, Relu — the same arithmetic in a form that
gives tract one large matrix product instead of one 16-column product per window, and no
channel-first transposes. Writes target/score-bench/conv-matmul.onnx; `cargo bench --bench
profile --features data` times it beside the shipped file when it exists (not shipped: the
graph check accepts the shipped structure only)."""
import pathlib
import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

root = pathlib.Path(__file__).resolve().parent.parent
m = onnx.load(root / "models" / "nextevent.onnx")
g = m.graph
init = {i.name: numpy_helper.to_array(i) for i in g.initializer}
w = (init["conv.weight.int8"].astype(np.float32)
     - init["conv.weight.zero_point"].astype(np.float32)[:, None, None]) * init["conv.weight.scale"][:, None, None]
o, c, k = w.shape
wk = np.ascontiguousarray(w.transpose(2, 1, 0).reshape(k * c, o))  # [k*c, o], row kk*c+cc
new_inits = [
    numpy_helper.from_array(wk, "conv.wk"),
    numpy_helper.from_array(np.array([0, 1, 0, 0, 1, 0], np.int64), "conv.pads"),
]
for j in range(k):
    new_inits += [numpy_helper.from_array(np.array([j], np.int64), f"conv.s{j}"),
                  numpy_helper.from_array(np.array([j + 16], np.int64), f"conv.e{j}")]
new_inits.append(numpy_helper.from_array(np.array([1], np.int64), "conv.axis"))
nodes = []
for n in g.node:
    if n.name == "x_nct" or n.name == "conv.weight" and n.op_type == "DequantizeLinear":
        continue
    if n.name == "conv":
        nodes.append(helper.make_node("Pad", ["x", "conv.pads"], ["conv.xp"], name="conv.pad"))
        for j in range(k):
            nodes.append(helper.make_node("Slice", ["conv.xp", f"conv.s{j}", f"conv.e{j}", "conv.axis"],
                                          [f"conv.x{j}"], name=f"conv.shift{j}"))
        nodes.append(helper.make_node("Concat", [f"conv.x{j}" for j in range(k)], ["conv.cols"],
                                      name="conv.cols", axis=2))
        nodes.append(helper.make_node("MatMul", ["conv.cols", "conv.wk"], ["conv.mm"], name="conv.mm"))
        nodes.append(helper.make_node("Add", ["conv.mm", "conv.bias"], ["conv"], name="conv"))
        continue
    if n.name == "x_tnc":
        nodes.append(helper.make_node("Transpose", ["conv_relu"], ["x_tnc"], name="x_tnc", perm=[1, 0, 2]))
        continue
    nodes.append(n)
keep = [i for i in g.initializer if not i.name.startswith("conv.weight")]
graph = helper.make_graph(nodes, g.name, g.input, g.output, keep + new_inits)
out = helper.make_model(graph, opset_imports=m.opset_import, producer_name="nextevent perf/conv_as_matmul.py")
out.ir_version = m.ir_version
onnx.checker.check_model(out)
dst = root / "target" / "score-bench" / "conv-matmul.onnx"
dst.parent.mkdir(parents=True, exist_ok=True)
onnx.save(out, dst)
print(f"wrote {dst}")
