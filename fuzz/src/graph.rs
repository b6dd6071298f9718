//! Graph mutations for the structure-aware model fuzzer: each is a small, well-formed change to
//! a decoded ONNX model, chosen by the fuzzer's bytes, so mutated files stay readable protobuf
//! with nextevent's metadata and reach the graph check (or, with it off, tract).

use arbitrary::Arbitrary;
use nextevent::{Event, EventKind};
use tract_onnx::pb::{attribute_proto::AttributeType, AttributeProto, ModelProto};

/// Exports to start from: the shipped int8 model and its fp32 twin.
pub static BASES: &[&[u8]] = &[
    include_bytes!("../../models/nextevent.onnx"),
    include_bytes!("../../models/nextevent.fp32.onnx"),
];

/// Operators the exporter writes, for swapping one for another.
const OPS: [&str; 22] = [
    "DequantizeLinear",
    "Gather",
    "Concat",
    "Transpose",
    "Conv",
    "Relu",
    "GRU",
    "LSTM",
    "Slice",
    "Mul",
    "Div",
    "Max",
    "Expand",
    "Flatten",
    "ReduceMax",
    "ReduceSum",
    "Gemm",
    "Softmax",
    "Sigmoid",
    "Add",
    "MatMul",
    "Reshape",
];

/// Attribute names the exporter writes (and a few it does not).
const ATTRS: [&str; 12] = [
    "axis",
    "perm",
    "kernel_shape",
    "pads",
    "direction",
    "hidden_size",
    "linear_before_reset",
    "transB",
    "keepdims",
    "axes",
    "activations",
    "clip",
];

/// One mutation; indices wrap around the model's current sizes.
#[derive(Debug, Clone, Arbitrary)]
pub enum Mutation {
    DropInput {
        node: u8,
        input: u8,
    },
    ClearInput {
        node: u8,
        input: u8,
    },
    SwapInputs {
        node: u8,
        a: u8,
        b: u8,
    },
    RewireInput {
        node: u8,
        input: u8,
        from_node: u8,
    },
    SetInt {
        node: u8,
        attr: u8,
        value: i64,
    },
    SetInts {
        node: u8,
        attr: u8,
        values: Vec<i8>,
    },
    SetString {
        node: u8,
        attr: u8,
        value: u8,
    },
    AddAttr {
        node: u8,
        name: u8,
        value: i8,
    },
    RemoveAttr {
        node: u8,
        attr: u8,
    },
    SwapOp {
        node: u8,
        op: u8,
    },
    DuplicateNode {
        node: u8,
    },
    RemoveNode {
        node: u8,
    },
    MoveNode {
        node: u8,
        to: u8,
    },
    InitDims {
        init: u8,
        dims: Vec<u8>,
    },
    InitType {
        init: u8,
        data_type: u8,
    },
    InitBytes {
        init: u8,
        at: u16,
        value: u8,
    },
    InitTruncate {
        init: u8,
        keep: u16,
    },
    IoDim {
        output: bool,
        which: u8,
        dim: u8,
        value: i16,
    },
    IoType {
        output: bool,
        which: u8,
        elem: u8,
    },
    RenameIo {
        output: bool,
        which: u8,
        to: u8,
    },
    Versions {
        ir: i8,
        opset: i8,
    },
    Meta {
        key: bool,
        at: u16,
        value: u8,
    },
}

fn pick(n: usize, i: u8) -> Option<usize> {
    (n > 0).then(|| i as usize % n)
}

/// Applies one mutation (a no-op where it does not fit the model).
pub fn mutate(m: &mut ModelProto, mutation: &Mutation) {
    use Mutation::*;
    match mutation {
        Versions { ir, opset } => {
            m.ir_version += i64::from(*ir % 4);
            if let Some(o) = m.opset_import.first_mut() {
                o.version += i64::from(*opset % 6);
            }
            return;
        }
        Meta { key, at, value } => {
            if let Some(p) = m.metadata_props.first_mut() {
                let s = if *key { &mut p.key } else { &mut p.value };
                let mut b = std::mem::take(s).into_bytes();
                if !b.is_empty() {
                    let i = *at as usize % b.len();
                    b[i] = *value;
                }
                *s = String::from_utf8_lossy(&b).into_owned();
            }
            return;
        }
        _ => {}
    }
    let Some(g) = m.graph.as_mut() else { return };
    let names: Vec<String> = g
        .node
        .iter()
        .flat_map(|n| n.output.iter().cloned())
        .chain(g.input.iter().map(|i| i.name.clone()))
        .chain(g.initializer.iter().map(|t| t.name.clone()))
        .collect();
    let nodes = g.node.len();
    match mutation {
        DropInput { node, input } => {
            if let Some(n) = pick(nodes, *node).map(|i| &mut g.node[i]) {
                if let Some(j) = pick(n.input.len(), *input) {
                    n.input.remove(j);
                }
            }
        }
        ClearInput { node, input } => {
            if let Some(n) = pick(nodes, *node).map(|i| &mut g.node[i]) {
                if let Some(j) = pick(n.input.len(), *input) {
                    n.input[j].clear();
                }
            }
        }
        SwapInputs { node, a, b } => {
            if let Some(n) = pick(nodes, *node).map(|i| &mut g.node[i]) {
                if let (Some(x), Some(y)) = (pick(n.input.len(), *a), pick(n.input.len(), *b)) {
                    n.input.swap(x, y);
                }
            }
        }
        RewireInput {
            node,
            input,
            from_node,
        } => {
            let from = pick(names.len(), *from_node).map(|i| names[i].clone());
            if let (Some(n), Some(from)) = (pick(nodes, *node).map(|i| &mut g.node[i]), from) {
                if let Some(j) = pick(n.input.len(), *input) {
                    n.input[j] = from;
                }
            }
        }
        SetInt { node, attr, value } => {
            if let Some(a) = attr_of(g, *node, *attr) {
                a.i = *value % 1000;
            }
        }
        SetInts { node, attr, values } => {
            if let Some(a) = attr_of(g, *node, *attr) {
                a.ints = values.iter().take(6).map(|&v| i64::from(v)).collect();
            }
        }
        SetString { node, attr, value } => {
            if let Some(a) = attr_of(g, *node, *attr) {
                a.s = ["forward", "reverse", "bidirectional", "Tanh", ""][*value as usize % 5]
                    .as_bytes()
                    .to_vec();
            }
        }
        AddAttr { node, name, value } => {
            if let Some(n) = pick(nodes, *node).map(|i| &mut g.node[i]) {
                n.attribute.push(AttributeProto {
                    name: ATTRS[*name as usize % ATTRS.len()].into(),
                    r#type: AttributeType::Int as i32,
                    i: i64::from(*value),
                    ..Default::default()
                });
            }
        }
        RemoveAttr { node, attr } => {
            if let Some(n) = pick(nodes, *node).map(|i| &mut g.node[i]) {
                if let Some(j) = pick(n.attribute.len(), *attr) {
                    n.attribute.remove(j);
                }
            }
        }
        SwapOp { node, op } => {
            if let Some(n) = pick(nodes, *node).map(|i| &mut g.node[i]) {
                n.op_type = OPS[*op as usize % OPS.len()].into();
            }
        }
        DuplicateNode { node } => {
            if let Some(i) = pick(nodes, *node) {
                let n = g.node[i].clone();
                g.node.insert(i + 1, n);
            }
        }
        RemoveNode { node } => {
            if let Some(i) = pick(nodes, *node) {
                g.node.remove(i);
            }
        }
        MoveNode { node, to } => {
            if let (Some(i), Some(j)) = (pick(nodes, *node), pick(nodes, *to)) {
                let n = g.node.remove(i);
                g.node.insert(j, n);
            }
        }
        InitDims { init, dims } => {
            if let Some(t) = pick(g.initializer.len(), *init).map(|i| &mut g.initializer[i]) {
                t.dims = dims.iter().take(4).map(|&d| i64::from(d)).collect();
            }
        }
        InitType { init, data_type } => {
            if let Some(t) = pick(g.initializer.len(), *init).map(|i| &mut g.initializer[i]) {
                t.data_type = i32::from(*data_type % 17);
            }
        }
        InitBytes { init, at, value } => {
            if let Some(t) = pick(g.initializer.len(), *init).map(|i| &mut g.initializer[i]) {
                let len = t.raw_data.len();
                if len > 0 {
                    t.raw_data[*at as usize % len] = *value;
                }
            }
        }
        InitTruncate { init, keep } => {
            if let Some(t) = pick(g.initializer.len(), *init).map(|i| &mut g.initializer[i]) {
                let k = *keep as usize % (t.raw_data.len() + 1);
                t.raw_data.truncate(k);
            }
        }
        IoDim {
            output,
            which,
            dim,
            value,
        } => {
            let io = if *output { &mut g.output } else { &mut g.input };
            if let Some(v) = pick(io.len(), *which).map(|i| &mut io[i]) {
                use tract_onnx::pb::{tensor_shape_proto::dimension::Value, type_proto};
                if let Some(type_proto::Value::TensorType(t)) =
                    v.r#type.as_mut().and_then(|t| t.value.as_mut())
                {
                    if let Some(s) = t.shape.as_mut() {
                        if let Some(d) = pick(s.dim.len(), *dim).map(|i| &mut s.dim[i]) {
                            d.value = Some(if *value < 0 {
                                Value::DimParam("M".into())
                            } else {
                                Value::DimValue(i64::from(*value % 64))
                            });
                        } else {
                            s.dim.push(Default::default());
                        }
                    }
                }
            }
        }
        IoType {
            output,
            which,
            elem,
        } => {
            let io = if *output { &mut g.output } else { &mut g.input };
            if let Some(v) = pick(io.len(), *which).map(|i| &mut io[i]) {
                use tract_onnx::pb::type_proto;
                if let Some(type_proto::Value::TensorType(t)) =
                    v.r#type.as_mut().and_then(|t| t.value.as_mut())
                {
                    t.elem_type = i32::from(*elem % 17);
                }
            }
        }
        RenameIo { output, which, to } => {
            let to = pick(names.len(), *to).map(|i| names[i].clone());
            let io = if *output { &mut g.output } else { &mut g.input };
            if let (Some(v), Some(to)) = (pick(io.len(), *which).map(|i| &mut io[i]), to) {
                v.name = to;
            }
        }
        Versions { .. } | Meta { .. } => unreachable!("handled above"),
    }
}

fn attr_of(g: &mut tract_onnx::pb::GraphProto, node: u8, attr: u8) -> Option<&mut AttributeProto> {
    let n = pick(g.node.len(), node).map(|i| &mut g.node[i])?;
    let j = pick(n.attribute.len(), attr)?;
    Some(&mut n.attribute[j])
}

/// Windows to predict on once a mutated model loads: one of each length class.
pub fn windows() -> Vec<Vec<Event>> {
    let ev = |i: i64, kind: EventKind| Event {
        time_ms: 1_575_000_000_000 + i * 7_000,
        kind,
        product_id: 5_802_432 + i as u64 % 3,
        brand: (i % 2 == 0).then(|| std::sync::Arc::from("runail")),
        price: 4.05 + i as f32,
        category_code: None,
    };
    vec![
        vec![ev(0, EventKind::View)],
        (0..5)
            .map(|i| ev(i, EventKind::ALL[i as usize % 4]))
            .collect(),
        (0..20)
            .map(|i| ev(i, EventKind::ALL[(i as usize / 3) % 4]))
            .collect(),
    ]
}
