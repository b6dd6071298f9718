//! ONNX export (native, feature `train`): builds the graph with tract-onnx's prost types,
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

use crate::encode::Batch;
use crate::error::Result;
use crate::metrics::argmax;
use crate::model::to_vec_f32;
use crate::predict::Predictor;
use crate::spec::{FeatureSpec, ModelInfo, BRAND_BUCKETS, INFO_KEY, N_FEATURES, SPEC_KEY, WINDOW};
use crate::train::Trained;

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

/// Builds the ONNX model of a trained network.
pub fn to_onnx(t: &Trained, weights: Weights, info: &ModelInfo) -> Vec<u8> {
    let m = &t.model;
    let mut g = Graph {
        g: GraphProto {
            name: "nextevent_cnn_bigru".into(),
            ..Default::default()
        },
        weights,
    };
    let [buckets, e_dim] = m.embed.weight.dims();
    assert_eq!(buckets, BRAND_BUCKETS);
    let [c_out, c_in, k] = m.conv.weight.dims();
    let h = m.gru_forward.d_hidden;

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
    g.node(
        "Concat",
        &["features", "brand_embedding"],
        "x",
        vec![attr_i("axis", 2)],
    );
    g.node(
        "Transpose",
        &["x"],
        "x_nct",
        vec![attr_ints("perm", &[0, 2, 1])],
    );
    let cw = g.weight(
        "conv.weight",
        &to_vec_f32(m.conv.weight.val()),
        &[c_out, c_in, k],
        0,
    );
    let cb = to_vec_f32(m.conv.bias.as_ref().expect("conv bias").val());
    g.f32_init("conv.bias", &cb, &[c_out]);
    g.node(
        "Conv",
        &["x_nct", &cw, "conv.bias"],
        "conv",
        vec![
            attr_ints("kernel_shape", &[k as i64]),
            attr_ints("pads", &[1, 1]),
        ],
    );
    g.node("Relu", &["conv"], "conv_relu", vec![]);
    g.node(
        "Transpose",
        &["conv_relu"],
        "x_tnc",
        vec![attr_ints("perm", &[2, 0, 1])],
    );

    // ONNX GRU: W [2, 3H, In], R [2, 3H, H], B [2, 6H]; gates z, r, h; burn Linear is [in, out].
    let (mut w, mut r, mut b) = (Vec::new(), Vec::new(), Vec::new());
    for gru in [&m.gru_forward, &m.gru_backward] {
        let gates = [&gru.update_gate, &gru.reset_gate, &gru.new_gate];
        for gate in gates {
            w.extend(transpose2(
                &to_vec_f32(gate.input_transform.weight.val()),
                c_out,
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
            b.extend(to_vec_f32(
                gate.input_transform.bias.as_ref().expect("bias").val(),
            ));
        }
        for gate in gates {
            b.extend(to_vec_f32(
                gate.hidden_transform.bias.as_ref().expect("bias").val(),
            ));
        }
    }
    let wn = g.weight("gru.W", &w, &[2, 3 * h, c_out], 1);
    let rn = g.weight("gru.R", &r, &[2, 3 * h, h], 1);
    g.f32_init("gru.B", &b, &[2, 6 * h]);
    // Explicit zero initial state [2, N, H] derived from the input, so the batch size can stay
    // symbolic (tract materialises an implicit initial state with a concrete batch size).
    g.i64_init("h0.starts", &[0, 0]);
    g.i64_init("h0.ends", &[1, 1]);
    g.i64_init("h0.axes", &[0, 2]);
    g.f32_init("h0.zero", &[0.0], &[1]);
    g.i64_init("h0.shape", &[2, 1, h as i64]);
    g.node(
        "Slice",
        &["x_tnc", "h0.starts", "h0.ends", "h0.axes"],
        "h0.seed",
        vec![],
    );
    g.node("Mul", &["h0.seed", "h0.zero"], "h0.zeros", vec![]);
    g.node("Expand", &["h0.zeros", "h0.shape"], "gru.h0", vec![]);
    g.g.node.push(NodeProto {
        name: "gru".into(),
        op_type: "GRU".into(),
        input: vec![
            "x_tnc".into(),
            wn,
            rn,
            "gru.B".into(),
            "".into(),
            "gru.h0".into(),
        ],
        output: vec!["".into(), "gru_h".into()],
        attribute: vec![
            attr_s("direction", "bidirectional"),
            attr_i("hidden_size", h as i64),
            attr_i("linear_before_reset", 1),
        ],
        ..Default::default()
    });
    g.node(
        "Transpose",
        &["gru_h"],
        "h_n2h",
        vec![attr_ints("perm", &[1, 0, 2])],
    );
    g.node("Flatten", &["h_n2h"], "h", vec![attr_i("axis", 1)]);

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
        &["h", &hwn, "head.bias"],
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
                serde_json::to_string(&FeatureSpec::current()).expect("spec json"),
            ),
            meta(INFO_KEY, serde_json::to_string(info).expect("info json")),
        ],
        ..Default::default()
    };
    model.encode_to_vec()
}

/// How closely tract running an exported file reproduces burn's forward pass.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Verification {
    pub windows: usize,
    pub max_abs_diff: f32,
    pub mean_abs_diff: f64,
    pub argmax_agreement: f64,
}

/// Runs `onnx` in tract on `batch` and compares with `reference` probabilities.
pub fn verify(onnx: &[u8], batch: &Batch, reference: &[f32]) -> Result<Verification> {
    let p = Predictor::from_onnx_bytes(onnx)?.run_raw(batch)?;
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
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

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
