//! ONNX export: builds the graph with tract-onnx's prost types,
//! stores weights as fp32 or int8 (`DequantizeLinear`, per channel), folds the calibration
//! into the dense layer, writes the spec into `metadata_props`, and verifies itself.

use prost::Message;
use serde::Serialize;
use tract_onnx::pb::{
    attribute_proto::AttributeType, tensor_proto::DataType,
    tensor_shape_proto::dimension::Value as Dim, tensor_shape_proto::Dimension, type_proto,
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, StringStringEntryProto,
    TensorProto, TensorShapeProto, TypeProto, ValueInfoProto,
};

use crate::core::encode::Batch;
use crate::core::error::Result;
use crate::core::predict::Predictor;
use crate::core::spec::{
    FeatureSpec, ModelInfo, BRAND_BUCKETS, INFO_KEY, N_FEATURES, SPEC_KEY, WINDOW,
};
use crate::data::metrics::argmax;
use crate::training::fit::Trained;
use crate::training::net::to_vec_f32;

/// How weights are stored in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Weights {
    Fp32,
    /// Symmetric int8 (±127, zero point 0), one scale per output channel.
    Int8,
}

fn attr_i(name: &str, v: i64) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: AttributeType::Int as i32,
        i: v,
        ..Default::default()
    }
}
fn attr_ints(name: &str, v: &[i64]) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: AttributeType::Ints as i32,
        ints: v.to_vec(),
        ..Default::default()
    }
}
fn attr_s(name: &str, v: &str) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: AttributeType::String as i32,
        s: v.as_bytes().to_vec(),
        ..Default::default()
    }
}

fn value_info(name: &str, elem: DataType, dims: &[Option<i64>]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|d| Dimension {
            value: Some(d.map_or_else(|| Dim::DimParam("N".into()), Dim::DimValue)),
            ..Default::default()
        })
        .collect();
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: elem as i32,
                shape: Some(TensorShapeProto { dim }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Per-channel symmetric int8 quantisation along `axis`: returns values and scales.
pub fn quantize(w: &[f32], shape: &[usize], axis: usize) -> (Vec<i8>, Vec<f32>) {
    let inner: usize = shape[axis + 1..].iter().product();
    let n = shape[axis];
    let mut max = vec![0.0f32; n];
    for (i, v) in w.iter().enumerate() {
        let c = (i / inner) % n;
        max[c] = max[c].max(v.abs());
    }
    let scales: Vec<f32> = max
        .iter()
        .map(|m| if *m > 0.0 { m / 127.0 } else { 1.0 })
        .collect();
    let q = w
        .iter()
        .enumerate()
        .map(|(i, v)| (v / scales[(i / inner) % n]).round().clamp(-127.0, 127.0) as i8)
        .collect();
    (q, scales)
}

struct Graph {
    g: GraphProto,
    weights: Weights,
}

impl Graph {
    fn node(&mut self, op: &str, inputs: &[&str], output: &str, attrs: Vec<AttributeProto>) {
        self.g.node.push(NodeProto {
            name: output.into(),
            op_type: op.into(),
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![output.into()],
            attribute: attrs,
            ..Default::default()
        });
    }

    fn f32_init(&mut self, name: &str, data: &[f32], dims: &[usize]) {
        self.g.initializer.push(TensorProto {
            name: name.into(),
            dims: dims.iter().map(|&d| d as i64).collect(),
            data_type: DataType::Float as i32,
            raw_data: data.iter().flat_map(|v| v.to_le_bytes()).collect(),
            ..Default::default()
        });
    }

    fn i64_init(&mut self, name: &str, data: &[i64]) {
        self.g.initializer.push(TensorProto {
            name: name.into(),
            dims: vec![data.len() as i64],
            data_type: DataType::Int64 as i32,
            raw_data: data.iter().flat_map(|v| v.to_le_bytes()).collect(),
            ..Default::default()
        });
    }

    /// A weight tensor; returns the name under which its float values are available.
    fn weight(&mut self, name: &str, data: &[f32], dims: &[usize], axis: usize) -> String {
        assert_eq!(
            data.len(),
            dims.iter().product::<usize>(),
            "{name}: data does not fit {dims:?}"
        );
        match self.weights {
            Weights::Fp32 => {
                self.f32_init(name, data, dims);
                name.into()
            }
            Weights::Int8 => {
                let (q, scales) = quantize(data, dims, axis);
                let qn = format!("{name}.int8");
                self.g.initializer.push(TensorProto {
                    name: qn.clone(),
                    dims: dims.iter().map(|&d| d as i64).collect(),
                    data_type: DataType::Int8 as i32,
                    raw_data: q.iter().map(|&v| v as u8).collect(),
                    ..Default::default()
                });
                let sn = format!("{name}.scale");
                self.f32_init(&sn, &scales, &[scales.len()]);
                let zn = format!("{name}.zero_point");
                self.g.initializer.push(TensorProto {
                    name: zn.clone(),
                    dims: vec![scales.len() as i64],
                    data_type: DataType::Int8 as i32,
                    raw_data: vec![0; scales.len()],
                    ..Default::default()
                });
                self.node(
                    "DequantizeLinear",
                    &[&qn, &sn, &zn],
                    name,
                    vec![attr_i("axis", axis as i64)],
                );
                name.into()
            }
        }
    }
}

fn transpose2(w: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut t = vec![0.0; w.len()];
    for r in 0..rows {
        for c in 0..cols {
            t[c * rows + r] = w[r * cols + c];
        }
    }
    t
}

/// Initial recurrent state `[dirs, N, H]` of zeros derived from `x_tnc`, so the batch size
/// can stay symbolic (tract materialises an implicit initial state with a concrete batch).
fn zero_state(g: &mut Graph, x_tnc: &str, dirs: usize, h: usize) -> String {
    g.i64_init("h0.starts", &[0, 0]);
    g.i64_init("h0.ends", &[1, 1]);
    g.i64_init("h0.axes", &[0, 2]);
    g.f32_init("h0.zero", &[0.0], &[1]);
    g.i64_init("h0.shape", &[dirs as i64, 1, h as i64]);
    g.node(
        "Slice",
        &[x_tnc, "h0.starts", "h0.ends", "h0.axes"],
        "h0.seed",
        vec![],
    );
    g.node("Mul", &["h0.seed", "h0.zero"], "h0.zeros", vec![]);
    g.node("Expand", &["h0.zeros", "h0.shape"], "h0", vec![]);
    "h0".into()
}

/// ONNX GRU (gates z, r, h) over `x_tnc` from burn GRUs (update, reset, new; Linear weights
/// `[in, out]`, input-transform bias → Wb, hidden-transform bias → Rb); returns the name of the
/// final states flattened to `[N, dirs·H]`.
fn gru(g: &mut Graph, x_tnc: &str, grus: &[&burn::nn::Gru], d_in: usize) -> String {
    let h = grus[0].d_hidden;
    let (mut w, mut r, mut b) = (Vec::new(), Vec::new(), Vec::new());
    for gru in grus {
        let gates = [&gru.update_gate, &gru.reset_gate, &gru.new_gate];
        gates_into(&gates, d_in, h, &mut w, &mut r, &mut b);
    }
    let dirs = grus.len();
    let wn = g.weight("gru.W", &w, &[dirs, 3 * h, d_in], 1);
    let rn = g.weight("gru.R", &r, &[dirs, 3 * h, h], 1);
    g.f32_init("gru.B", &b, &[dirs, 6 * h]);
    let h0 = zero_state(g, x_tnc, dirs, h);
    let direction = if dirs == 2 {
        "bidirectional"
    } else {
        "forward"
    };
    g.g.node.push(NodeProto {
        name: "gru".into(),
        op_type: "GRU".into(),
        input: vec![x_tnc.into(), wn, rn, "gru.B".into(), "".into(), h0],
        output: vec!["".into(), "rnn_h".into()],
        attribute: vec![
            attr_s("direction", direction),
            attr_i("hidden_size", h as i64),
            attr_i("linear_before_reset", 1),
        ],
        ..Default::default()
    });
    final_states(g)
}

/// ONNX LSTM (gates i, o, f, c) over `x_tnc` from a burn LSTM (input, output, forget, cell).
fn lstm(g: &mut Graph, x_tnc: &str, l: &burn::nn::Lstm, d_in: usize) -> String {
    let h = l.d_hidden;
    let forget = l.forget_gate.as_ref().expect("LSTM with a forget gate");
    let gates = [&l.input_gate, &l.output_gate, forget, &l.cell_gate];
    let (mut w, mut r, mut b) = (Vec::new(), Vec::new(), Vec::new());
    gates_into(&gates, d_in, h, &mut w, &mut r, &mut b);
    let wn = g.weight("lstm.W", &w, &[1, 4 * h, d_in], 1);
    let rn = g.weight("lstm.R", &r, &[1, 4 * h, h], 1);
    g.f32_init("lstm.B", &b, &[1, 8 * h]);
    let h0 = zero_state(g, x_tnc, 1, h);
    g.g.node.push(NodeProto {
        name: "lstm".into(),
        op_type: "LSTM".into(),
        input: vec![
            x_tnc.into(),
            wn,
            rn,
            "lstm.B".into(),
            "".into(),
            h0.clone(),
            h0,
        ],
        output: vec!["".into(), "rnn_h".into()],
        attribute: vec![
            attr_s("direction", "forward"),
            attr_i("hidden_size", h as i64),
        ],
        ..Default::default()
    });
    final_states(g)
}

/// Appends ONNX `W`, `R` (each gate `[H, in]`) and `B` (`Wb` then `Rb`) of one direction.
fn gates_into(
    gates: &[&burn::nn::GateController],
    d_in: usize,
    h: usize,
    w: &mut Vec<f32>,
    r: &mut Vec<f32>,
    b: &mut Vec<f32>,
) {
    let bias = |l: &burn::nn::Linear| to_vec_f32(l.bias.as_ref().expect("bias").val());
    for gate in gates {
        w.extend(transpose2(
            &to_vec_f32(gate.input_transform.weight.val()),
            d_in,
            h,
        ));
    }
    for gate in gates {
        r.extend(transpose2(
            &to_vec_f32(gate.hidden_transform.weight.val()),
            h,
            h,
        ));
    }
    for gate in gates {
        b.extend(bias(&gate.input_transform));
    }
    for gate in gates {
        b.extend(bias(&gate.hidden_transform));
    }
}

/// `Y_h` `[dirs, N, H]` → `[N, dirs·H]` (forward direction first, as burn concatenates).
fn final_states(g: &mut Graph) -> String {
    g.node(
        "Transpose",
        &["rnn_h"],
        "h_n2h",
        vec![attr_ints("perm", &[1, 0, 2])],
    );
    g.node("Flatten", &["h_n2h"], "h", vec![attr_i("axis", 1)]);
    "h".into()
}

/// Conv1d k3 (pads 1) + ReLU on `[N, C, T]`.
fn conv_relu(g: &mut Graph, input: &str, c: &burn::nn::conv::Conv1d, name: &str) -> String {
    let [c_out, c_in, k] = c.weight.dims();
    let cw = g.weight(
        &format!("{name}.weight"),
        &to_vec_f32(c.weight.val()),
        &[c_out, c_in, k],
        0,
    );
    let bn = format!("{name}.bias");
    let cb = to_vec_f32(c.bias.as_ref().expect("conv bias").val());
    g.f32_init(&bn, &cb, &[c_out]);
    g.node(
        "Conv",
        &[input, &cw, &bn],
        name,
        vec![
            attr_ints("kernel_shape", &[k as i64]),
            attr_ints("pads", &[1, 1]),
        ],
    );
    let out = format!("{name}_relu");
    g.node("Relu", &[name], &out, vec![]);
    out
}

/// Builds the ONNX model of a trained network of any [`crate::training::net::Arch`].
pub fn to_onnx(t: &Trained, weights: Weights, info: &ModelInfo) -> Vec<u8> {
    let m = &t.model;
    let mut g = Graph {
        g: GraphProto {
            name: format!("nextevent_{}", m.arch()),
            ..Default::default()
        },
        weights,
    };
    let [buckets, e_dim] = m.embed.weight.dims();
    assert_eq!(buckets, BRAND_BUCKETS);

    g.g.input.push(value_info(
        "features",
        DataType::Float,
        &[None, Some(WINDOW as i64), Some(N_FEATURES as i64)],
    ));
    g.g.input.push(value_info(
        "brand_bucket",
        DataType::Int64,
        &[None, Some(WINDOW as i64)],
    ));
    let ctx = m.context_features;
    if ctx > 0 {
        g.g.input.push(value_info(
            "context",
            DataType::Float,
            &[None, Some(WINDOW as i64), Some(ctx as i64)],
        ));
    }
    g.g.output.push(value_info(
        "probabilities",
        DataType::Float,
        &[None, Some(4)],
    ));

    let emb = g.weight(
        "embedding",
        &to_vec_f32(m.embed.weight.val()),
        &[buckets, e_dim],
        0,
    );
    g.node(
        "Gather",
        &[&emb, "brand_bucket"],
        "brand_embedding",
        vec![attr_i("axis", 0)],
    );
    let parts: &[&str] = if ctx > 0 {
        &["features", "context", "brand_embedding"]
    } else {
        &["features", "brand_embedding"]
    };
    g.node("Concat", parts, "x", vec![attr_i("axis", 2)]);
    let d_x = N_FEATURES + ctx + e_dim;

    // The body: `x` [N, T, C] → `h` [N, D].
    let h = if let Some(conv) = &m.conv {
        g.node(
            "Transpose",
            &["x"],
            "x_nct",
            vec![attr_ints("perm", &[0, 2, 1])],
        );
        let c1 = conv_relu(&mut g, "x_nct", conv, "conv");
        if let Some(conv2) = &m.conv2 {
            // CNN: last step's channels ‖ each channel's max over time.
            let c2 = conv_relu(&mut g, &c1, conv2, "conv2");
            g.i64_init("last.starts", &[-1]);
            g.i64_init("last.ends", &[WINDOW as i64]);
            g.i64_init("last.axes", &[2]);
            g.node(
                "Slice",
                &[&c2, "last.starts", "last.ends", "last.axes"],
                "last_nc1",
                vec![],
            );
            g.node("Flatten", &["last_nc1"], "last", vec![attr_i("axis", 1)]);
            g.node(
                "ReduceMax",
                &[&c2],
                "max",
                vec![attr_ints("axes", &[2]), attr_i("keepdims", 0)],
            );
            g.node("Concat", &["last", "max"], "h", vec![attr_i("axis", 1)]);
            "h".to_string()
        } else {
            let [c_out, _, _] = conv.weight.dims();
            g.node(
                "Transpose",
                &[&c1],
                "x_tnc",
                vec![attr_ints("perm", &[2, 0, 1])],
            );
            let grus: Vec<&burn::nn::Gru> =
                m.gru_forward.iter().chain(m.gru_backward.iter()).collect();
            gru(&mut g, "x_tnc", &grus, c_out)
        }
    } else {
        g.node(
            "Transpose",
            &["x"],
            "x_tnc",
            vec![attr_ints("perm", &[1, 0, 2])],
        );
        if let Some(l) = &m.lstm {
            lstm(&mut g, "x_tnc", l, d_x)
        } else {
            let grus: Vec<&burn::nn::Gru> =
                m.gru_forward.iter().chain(m.gru_backward.iter()).collect();
            gru(&mut g, "x_tnc", &grus, d_x)
        }
    };

    // Session-level brand vector: mean embedding over the window's events (is_event mask).
    let h = if m.brand_pool {
        g.i64_init("mask.starts", &[0]);
        g.i64_init("mask.ends", &[1]);
        g.i64_init("mask.axes", &[2]);
        g.i64_init("pool.axes", &[1]);
        g.f32_init("pool.one", &[1.0], &[1]);
        g.node(
            "Slice",
            &["features", "mask.starts", "mask.ends", "mask.axes"],
            "mask",
            vec![],
        );
        g.node("Mul", &["brand_embedding", "mask"], "brands_masked", vec![]);
        g.node(
            "ReduceSum",
            &["brands_masked", "pool.axes"],
            "brands_sum",
            vec![attr_i("keepdims", 0)],
        );
        g.node(
            "ReduceSum",
            &["mask", "pool.axes"],
            "events_n",
            vec![attr_i("keepdims", 0)],
        );
        g.node("Max", &["events_n", "pool.one"], "events_n1", vec![]);
        g.node("Div", &["brands_sum", "events_n1"], "brands_mean", vec![]);
        g.node(
            "Concat",
            &[&h, "brands_mean"],
            "h_pooled",
            vec![attr_i("axis", 1)],
        );
        "h_pooled".to_string()
    } else {
        h
    };

    // The last event's own features beside the body's output (a linear path around it).
    let h = if m.skip {
        g.i64_init("skip.starts", &[WINDOW as i64 - 1]);
        g.i64_init("skip.ends", &[WINDOW as i64]);
        g.i64_init("skip.axes", &[1]);
        g.node(
            "Slice",
            &["features", "skip.starts", "skip.ends", "skip.axes"],
            "last_event_n1f",
            vec![],
        );
        g.node(
            "Flatten",
            &["last_event_n1f"],
            "last_event",
            vec![attr_i("axis", 1)],
        );
        g.node(
            "Concat",
            &[&h, "last_event"],
            "h_skip",
            vec![attr_i("axis", 1)],
        );
        "h_skip".to_string()
    } else {
        h
    };

    // The conversion head, its Platt calibration folded in: σ((x·w + b) / T_c + shift).
    if let Some(c) = &m.convert {
        let [d_in, _] = c.weight.dims();
        let (tc, shift) = (t.conversion_temperature, t.conversion_shift);
        let w: Vec<f32> = to_vec_f32(c.weight.val()).iter().map(|v| v / tc).collect();
        let b: Vec<f32> = to_vec_f32(c.bias.as_ref().expect("conversion bias").val())
            .iter()
            .map(|v| v / tc + shift)
            .collect();
        let wn = g.weight("conversion.weight", &w, &[1, d_in], 0);
        g.f32_init("conversion.bias", &b, &[1]);
        g.node(
            "Gemm",
            &[&h, &wn, "conversion.bias"],
            "conversion_logit",
            vec![attr_i("transB", 1)],
        );
        g.node("Sigmoid", &["conversion_logit"], "conversion", vec![]);
        g.g.output
            .push(value_info("conversion", DataType::Float, &[None, Some(1)]));
    }

    // Dense layer with the calibration folded in: (x·W + b + shift) / T.
    let [d_in, d_out] = m.head.weight.dims();
    let temp = t.temperature;
    let hw: Vec<f32> = transpose2(&to_vec_f32(m.head.weight.val()), d_in, d_out)
        .iter()
        .map(|v| v / temp)
        .collect();
    let hb: Vec<f32> = to_vec_f32(m.head.bias.as_ref().expect("head bias").val())
        .iter()
        .zip(t.logit_shift)
        .map(|(b, s)| (b + s) / temp)
        .collect();
    let hwn = g.weight("head.weight", &hw, &[d_out, d_in], 0);
    g.f32_init("head.bias", &hb, &[d_out]);
    g.node(
        "Gemm",
        &[&h, &hwn, "head.bias"],
        "logits",
        vec![attr_i("transB", 1)],
    );
    g.node(
        "Softmax",
        &["logits"],
        "probabilities",
        vec![attr_i("axis", 1)],
    );

    let meta = |k: &str, v: String| StringStringEntryProto {
        key: k.into(),
        value: v,
    };
    let model = ModelProto {
        ir_version: 7,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: 13,
        }],
        producer_name: "nextevent".into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        doc_string: format!("{} — {}", info.name, info.architecture),
        graph: Some(g.g),
        metadata_props: vec![
            meta(
                SPEC_KEY,
                serde_json::to_string(&match &t.calendar {
                    Some(c) if ctx > 0 => FeatureSpec::with_context(c.clone()),
                    _ => FeatureSpec::current(),
                })
                .expect("spec json"),
            ),
            meta(INFO_KEY, serde_json::to_string(info).expect("info json")),
        ],
        ..Default::default()
    };
    model.encode_to_vec()
}

/// How closely tract running an exported file reproduces burn's forward pass.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct Verification {
    pub windows: usize,
    pub max_abs_diff: f32,
    pub mean_abs_diff: f64,
    pub argmax_agreement: f64,
    /// The conversion head's largest |Δp| (models with the head).
    #[serde(default)]
    pub conversion_max_abs_diff: Option<f32>,
}

/// Runs `onnx` in tract on `batch` and compares with `reference` probabilities (and, for a
/// model with a conversion head, `reference_conversion`).
pub fn verify(
    onnx: &[u8],
    batch: &Batch,
    reference: &[f32],
    reference_conversion: &[f32],
) -> Result<Verification> {
    let (p, conv) = Predictor::from_onnx_bytes(onnx)?.run_heads(batch)?;
    if conv.as_ref().map_or(0, Vec::len) != reference_conversion.len() {
        return Err(crate::core::Error::Model(format!(
            "the export has {} conversion outputs, the network {}",
            conv.as_ref().map_or(0, Vec::len),
            reference_conversion.len()
        )));
    }
    let mut v = Verification {
        windows: batch.n,
        ..Default::default()
    };
    let mut sum = 0.0f64;
    for (a, b) in p.iter().zip(reference) {
        let d = (a - b).abs();
        v.max_abs_diff = v.max_abs_diff.max(d);
        sum += d as f64;
    }
    v.mean_abs_diff = sum / p.len().max(1) as f64;
    let agree = p
        .chunks_exact(4)
        .zip(reference.chunks_exact(4))
        .filter(|(a, b)| argmax(a) == argmax(b))
        .count();
    v.argmax_agreement = agree as f64 / batch.n.max(1) as f64;
    v.conversion_max_abs_diff = conv.map(|c| {
        c.iter()
            .zip(reference_conversion)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max)
    });
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::training::net::{Arch, ModelConfig};

    /// A batch of arbitrary (not event-shaped) inputs: the graph must match burn on any input.
    fn arbitrary_batch(n: usize) -> Batch {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        Batch {
            n,
            features: (0..n * WINDOW * N_FEATURES)
                .map(|_| (next() % 2001) as f32 / 1000.0 - 1.0)
                .collect(),
            brands: (0..n * WINDOW)
                .map(|_| (next() % BRAND_BUCKETS as u64) as i64)
                .collect(),
            context: Vec::new(),
        }
    }

    #[test]
    fn every_architecture_exports_and_tract_reproduces_burn() {
        let plain = arbitrary_batch(9);
        let variants = Arch::ALL
            .map(|arch| (arch, false, false))
            .into_iter()
            .chain([
                (Arch::CnnBiGru, true, false),
                (Arch::CnnBiGru, false, true),
                (Arch::Gru, true, true),
                (Arch::Lstm, true, false),
                (Arch::Cnn, false, true),
            ]);
        for (arch, context, brand_pool) in variants {
            let cfg = ModelConfig {
                arch,
                embed_dim: 4,
                conv_channels: 6,
                hidden: 5,
                context,
                brand_pool,
                // Every other variant also has the skip path and the conversion head.
                skip: context ^ brand_pool,
                conversion: context ^ brand_pool,
            };
            let mut batch = plain.clone();
            if context {
                // Arbitrary 0/1 context values.
                batch.context = (0..batch.n * WINDOW * crate::core::context::N_CONTEXT)
                    .map(|i| ((i * 7) % 3 == 0) as u8 as f32)
                    .collect();
            }
            let batch = &batch;
            let arch = format!("{arch} context={context} brand_pool={brand_pool}");
            let device = burn::tensor::Device::default();
            device.seed(3);
            let trained = Trained {
                model: cfg.init(&device),
                class_weights: [1.0; 4],
                logit_shift: [0.1, -0.2, 0.0, 0.3],
                temperature: 1.3,
                history: vec![],
                best_epoch: 1,
                train_windows: 0,
                seconds: 0.0,
                calendar: context.then(crate::core::context::Calendar::kaggle_period_example),
                conversion_temperature: 1.0,
                conversion_shift: -0.4,
            };
            let (reference, reference_conv) = trained.heads(batch);
            let info = ModelInfo::default();
            let fp32 = verify(
                &to_onnx(&trained, Weights::Fp32, &info),
                batch,
                &reference,
                &reference_conv,
            )
            .unwrap_or_else(|e| panic!("{arch} fp32: {e}"));
            assert!(fp32.max_abs_diff < 1e-5, "{arch} fp32: {fp32:?}");
            assert_eq!(fp32.argmax_agreement, 1.0, "{arch}");
            if cfg.conversion {
                assert!(
                    fp32.conversion_max_abs_diff.unwrap() < 1e-5,
                    "{arch}: {fp32:?}"
                );
            }
            let int8 = verify(
                &to_onnx(&trained, Weights::Int8, &info),
                batch,
                &reference,
                &reference_conv,
            )
            .unwrap_or_else(|e| panic!("{arch} int8: {e}"));
            assert!(int8.max_abs_diff < 0.05, "{arch} int8: {int8:?}");
            if cfg.conversion {
                assert!(
                    int8.conversion_max_abs_diff.unwrap() < 0.05,
                    "{arch}: {int8:?}"
                );
            }
            if context {
                // The calendar travels in the spec; the predictor encodes context itself and
                // refuses a batch encoded without it.
                let onnx = to_onnx(&trained, Weights::Int8, &info);
                let p = Predictor::from_onnx_bytes(&onnx).unwrap();
                assert_eq!(
                    p.spec().context.as_ref().unwrap().calendar,
                    crate::core::context::Calendar::kaggle_period_example()
                );
                let events = crate::core::json::events_from_json(
                    r#"[{"event_type":"view","product_id":1,"price":2.5,"event_time":"2019-11-29 10:00:00 UTC"}]"#,
                )
                .unwrap();
                let on_promo = p.predict(&events).unwrap();
                let mut plain = p.encode(&[&events]);
                assert!(plain.context.contains(&1.0));
                assert_eq!(p.run(&plain).unwrap()[0], on_promo);
                plain.context.clear();
                let e = p.run_raw(&plain).unwrap_err().to_string();
                assert!(e.contains("reads calendar context"), "{e}");
            }
        }
    }

    /// The graph check follows the exporter: every architecture `nextevent-train` offers, with
    /// and without context features and the pooled brand embedding, at default and other layer
    /// sizes, fp32 and int8, passes it.
    #[test]
    fn every_exportable_model_passes_the_graph_check() {
        let mut checked = 0;
        for arch in Arch::ALL {
            for context in [false, true] {
                for brand_pool in [false, true] {
                    for (embed_dim, conv_channels, hidden, heads) in
                        [(8, 32, 32, false), (3, 7, 5, true)]
                    {
                        let cfg = ModelConfig {
                            arch,
                            embed_dim,
                            conv_channels,
                            hidden,
                            context,
                            brand_pool,
                            skip: heads,
                            conversion: heads,
                        };
                        let trained = Trained {
                            model: cfg.init(&burn::tensor::Device::default()),
                            class_weights: [1.0; 4],
                            logit_shift: [0.0; 4],
                            temperature: 1.0,
                            history: vec![],
                            best_epoch: 1,
                            train_windows: 0,
                            seconds: 0.0,
                            calendar: context
                                .then(crate::core::context::Calendar::kaggle_period_example),
                            conversion_temperature: 1.3,
                            conversion_shift: 0.2,
                        };
                        for w in [Weights::Fp32, Weights::Int8] {
                            let bytes = to_onnx(&trained, w, &ModelInfo::default());
                            let proto = <ModelProto as Message>::decode(&bytes[..]).unwrap();
                            let spec = crate::core::predict::read_metadata(&proto).unwrap().0;
                            crate::core::graph_check::check(&proto, &spec)
                                .unwrap_or_else(|e| panic!("{cfg:?} {w:?}: {e}"));
                            checked += 1;
                        }
                    }
                }
            }
        }
        assert_eq!(checked, 5 * 2 * 2 * 2 * 2);
    }

    #[test]
    fn quantize_per_channel_round_trips_within_half_a_step() {
        let w = [0.5, -1.0, 0.25, 0.01, 0.02, -0.04];
        let (q, s) = quantize(&w, &[2, 3], 0);
        assert_eq!(s.len(), 2);
        assert_eq!(q[1], -127);
        assert_eq!(q[5], -127);
        for (i, (&qi, &wi)) in q.iter().zip(&w).enumerate() {
            assert!((qi as f32 * s[i / 3] - wi).abs() <= s[i / 3] / 2.0 + 1e-7);
        }
        let (_, s1) = quantize(&[1.0, 2.0, 3.0, 4.0], &[2, 2], 1);
        assert_eq!(s1, vec![3.0 / 127.0, 4.0 / 127.0]);
    }
}
