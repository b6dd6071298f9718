//! Shared test fixtures: deterministic event sequences and the parity golden file's format.
#![allow(dead_code)]

use std::sync::Arc;

use nextevent::{Event, EventKind};
use serde::{Deserialize, Serialize};

/// One parity case: events, their encoding and the native predictor's probabilities.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Case {
    pub name: String,
    pub events: Vec<Event>,
    pub features: Vec<f32>,
    pub brands: Vec<i64>,
    pub probabilities: [f32; 4],
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Golden {
    pub model_bytes: usize,
    pub cases: Vec<Case>,
}

/// Deterministic sequences covering every kind, brands, prices, gaps and window overflow.
pub fn sequences() -> Vec<(String, Vec<Event>)> {
    let mut out: Vec<(String, Vec<Event>)> = nextevent::browser::examples::examples()
        .into_iter()
        .map(|(n, rows)| {
            (
                n.to_string(),
                nextevent::browser::rows::rows_to_events(&rows).0,
            )
        })
        .collect();
    let brands = ["runail", "irisk", "", "masura", "Estel", "grattol"];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for len in [1usize, 2, 3, 7, 16, 17, 40] {
        let mut t = 1_575_000_000_000i64 + (next() % 86_400_000) as i64;
        let events = (0..len)
            .map(|_| {
                t += ((next() % 600) * 1000) as i64;
                let b = brands[(next() % brands.len() as u64) as usize];
                Event {
                    time_ms: t,
                    kind: EventKind::ALL[(next() % 4) as usize],
                    product_id: 5_800_000 + next() % 50,
                    brand: (!b.is_empty()).then(|| Arc::from(b)),
                    price: (next() % 3000) as f32 / 100.0,
                    category_code: None,
                }
            })
            .collect();
        out.push((format!("pseudo-random, {len} events"), events));
    }
    out
}

/// A real data file from `../shared/data/`.
pub fn shared_data(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data")
        .join(name)
}

/// A tiny, fast pipeline on the real sample (feature `train`): for tests, not for figures.
#[cfg(feature = "train")]
pub fn tiny_pipeline(
    seed: u64,
    epochs: usize,
    out: &std::path::Path,
    stem: &str,
) -> nextevent::training::pipeline::PipelineOptions {
    nextevent::training::pipeline::PipelineOptions {
        inputs: vec![shared_data("cosmetics-sample.csv")],
        out_dir: out.to_path_buf(),
        stem: stem.into(),
        train: nextevent::training::fit::TrainConfig {
            model: nextevent::training::net::ModelConfig {
                embed_dim: 4,
                conv_channels: 8,
                hidden: 8,
                ..Default::default()
            },
            epochs,
            seed,
            progress: false,
            ..nextevent::training::fit::TrainConfig::default()
        },
        verify_windows: 512,
        provenance: "the real 4,995-row sample (test)".into(),
    }
}

fn with_model(f: impl FnOnce(&mut tract_onnx::pb::ModelProto)) -> Vec<u8> {
    use prost::Message;
    let mut m =
        tract_onnx::pb::ModelProto::decode(nextevent::core::predict::EMBEDDED_MODEL).unwrap();
    f(&mut m);
    m.encode_to_vec()
}

/// Models the predictor must refuse at load: (case, bytes, text the error must contain).
/// Shared by the native (`tests/predictor.rs`) and browser (`tests/web.rs`) tests.
pub fn bad_models() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    use nextevent::core::predict::{EMBEDDED_MODEL, MAX_MODEL_BYTES};
    use nextevent::core::spec::{FeatureSpec, SPEC_KEY};
    vec![
        ("empty", vec![], "empty"),
        (
            "too large",
            vec![0u8; MAX_MODEL_BYTES + 1],
            "the limit is 64000000",
        ),
        (
            "truncated",
            EMBEDDED_MODEL[..EMBEDDED_MODEL.len() / 2].to_vec(),
            "ONNX",
        ),
        (
            "random bytes",
            (0..4096u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                .collect(),
            "",
        ),
        (
            "no metadata",
            with_model(|m| m.metadata_props.clear()),
            "no `nextevent.spec` metadata",
        ),
        (
            "other window",
            with_model(|m| {
                let mut s = FeatureSpec::current();
                s.window = 30;
                s.features.swap(1, 2);
                m.metadata_props
                    .iter_mut()
                    .find(|p| p.key == SPEC_KEY)
                    .unwrap()
                    .value = serde_json::to_string(&s).unwrap();
            }),
            "window: model has 30, this build has 16",
        ),
        (
            "unsupported op",
            with_model(|m| {
                let g = m.graph.as_mut().unwrap();
                g.node.last_mut().unwrap().op_type = "NotAnOnnxOp".into();
            }),
            "NotAnOnnxOp",
        ),
        // Structural mutations: well-formed ONNX with nextevent's metadata that the graph check
        // refuses before tract sees it. The first made tract 0.23.9 panic
        // (`UndeterminedSymbol("N")`), which aborted the demo's wasm instance.
        (
            "GRU without initial_h",
            with_node("gru", |n| {
                n.input.truncate(5);
            }),
            "node `gru` (GRU): optional input `initial_h` is missing",
        ),
        (
            "GRU with linear_before_reset 0",
            with_node("gru", |n| attr(n, "linear_before_reset").i = 0),
            "linear_before_reset must be 1",
        ),
        (
            "GRU hidden_size against its weights",
            with_node("gru", |n| attr(n, "hidden_size").i -= 1),
            "node `gru` (GRU): input `W` is float32 [2, 96, 32], expected float32 [2, 93, 32]",
        ),
        (
            "GRU reverse direction",
            with_node("gru", |n| attr(n, "direction").s = b"reverse".to_vec()),
            "direction \"reverse\" is not one the exporter writes",
        ),
        (
            "GRU with sequence_lens",
            with_node("gru", |n| n.input[4] = "brand_bucket".into()),
            "input `sequence_lens` must be empty",
        ),
        (
            "initializer shape inconsistent",
            with_initializer("gru.B", |t| {
                t.dims = vec![2, 96];
                t.raw_data.truncate(2 * 96 * 4);
            }),
            "node `gru` (GRU): input `B` is float32 [2, 96], expected float32 [2, 192]",
        ),
        (
            "initializer bytes short of its shape",
            with_initializer("gru.B", |t| t.raw_data.truncate(12)),
            "initializer `gru.B`: holds 12 bytes",
        ),
        (
            "NaN weight",
            with_initializer("head.bias", |t| {
                t.raw_data[..4].copy_from_slice(&f32::NAN.to_le_bytes())
            }),
            "initializer `head.bias`: value 0 is NaN",
        ),
        (
            "huge initializer",
            with_initializer("gru.B", |t| t.dims = vec![2, 1 << 16, 16]),
            "the limit is 1048576",
        ),
        (
            "Conv kernel 5",
            with_node("conv", |n| attr(n, "kernel_shape").ints = vec![5]),
            "expected kernel_shape [3] and pads [1, 1]",
        ),
        (
            "Softmax swapped for Relu",
            with_node("probabilities", |n| {
                n.op_type = "Relu".into();
                n.attribute.clear();
            }),
            "output `probabilities`: is computed by Relu, expected Softmax",
        ),
        (
            "input renamed",
            with_model(|m| {
                let g = m.graph.as_mut().unwrap();
                g.input[1].name = "brands".into();
            }),
            "graph inputs: are [\"features\", \"brands\"]",
        ),
        (
            "input of another window",
            with_model(|m| {
                use tract_onnx::pb::{tensor_shape_proto::dimension::Value, type_proto};
                let g = m.graph.as_mut().unwrap();
                if let Some(type_proto::Value::TensorType(t)) =
                    g.input[0].r#type.as_mut().unwrap().value.as_mut()
                {
                    t.shape.as_mut().unwrap().dim[1].value = Some(Value::DimValue(30));
                }
            }),
            "input `features`: is element type 1 with shape [N, 30, 21]",
        ),
        (
            "a node removed",
            with_model(|m| {
                let g = m.graph.as_mut().unwrap();
                g.node.retain(|n| n.name != "conv_relu");
            }),
            "names `conv_relu`, which is not defined before this node",
        ),
        (
            "nodes out of order",
            with_model(|m| {
                let g = m.graph.as_mut().unwrap();
                let i = g.node.iter().position(|n| n.name == "gru").unwrap();
                let gru = g.node.remove(i);
                g.node.insert(0, gru);
            }),
            "which is not defined before this node",
        ),
        (
            "a node duplicated",
            with_model(|m| {
                let g = m.graph.as_mut().unwrap();
                let relu = g
                    .node
                    .iter()
                    .find(|n| n.name == "conv_relu")
                    .unwrap()
                    .clone();
                g.node.push(relu);
            }),
            "output `conv_relu` redefines an existing value",
        ),
        (
            "opset 17",
            with_model(|m| m.opset_import[0].version = 17),
            "expected only the default domain at version 13",
        ),
        (
            "value_info annotations",
            with_model(|m| {
                let g = m.graph.as_mut().unwrap();
                let vi = g.output[0].clone();
                g.value_info.push(vi);
            }),
            "value_info",
        ),
        (
            "Gather indices from the features",
            with_node("brand_embedding", |n| n.input[1] = "features".into()),
            "input `indices` must be the graph input `brand_bucket`",
        ),
        // Fuzz findings (docs/FUZZING.md, `model_graph_unchecked`, the graph check off): each of
        // these, through to "Expand swapped for ReduceSum", made tract 0.23.9 (or ndarray under
        // it) panic, or a loaded model predict something that is not a distribution; the graph
        // check refuses them first. `bash fuzz/triage.sh` replays them with the check off.
        (
            "Flatten without its input",
            with_node("h", |n| n.input.clear()),
            "node `h` (Flatten): input `input` is missing",
        ),
        (
            "Transpose without its input",
            with_node("x_nct", |n| n.input.clear()),
            "node `x_nct` (Transpose): input `data` is missing",
        ),
        (
            "Conv with its data input left empty",
            with_node("conv", |n| n.input[0].clear()),
            "node `conv` (Conv): input `X` is missing",
        ),
        (
            "Softmax over the batch axis",
            with_node("probabilities", |n| attr(n, "axis").i = 0),
            "node `probabilities` (Softmax): axis must be 1",
        ),
        (
            "the output's node removed",
            with_model(|m| {
                let g = m.graph.as_mut().unwrap();
                g.node.retain(|n| n.name != "probabilities");
            }),
            "output `probabilities`: is not computed by any node",
        ),
        (
            "initializer of type string",
            with_initializer("gru.B", |t| t.data_type = 8),
            "initializer `gru.B`: has data type 8, expected float32, int64 or int8",
        ),
        (
            "Transpose fed the brand embedding",
            with_node("x_tnc", |n| n.input[0] = "brand_embedding".into()),
            "node `gru` (GRU): input `W` is float32 [2, 96, 32], expected float32 [2, 96, 16]",
        ),
        (
            "Conv with empty pads",
            with_node("conv", |n| attr(n, "pads").ints.clear()),
            "node `conv` (Conv): expected kernel_shape [3] and pads [1, 1]",
        ),
        (
            "Expand swapped for ReduceSum",
            with_node("h0", |n| n.op_type = "ReduceSum".into()),
            "node `h0` (ReduceSum): reduces over the batch dimension N",
        ),
        (
            "embedding of the wrong size",
            with_model(|m| {
                let g = m.graph.as_mut().unwrap();
                let dq = g
                    .node
                    .iter_mut()
                    .find(|n| n.name == "brand_embedding")
                    .unwrap();
                dq.input[0] = "gru.B".into();
            }),
            "the embedding has 2 rows, expected 128",
        ),
    ]
}

/// `with_model`, changing the node whose name (the exporter's: its output) is `name`.
fn with_node(name: &str, f: impl FnOnce(&mut tract_onnx::pb::NodeProto)) -> Vec<u8> {
    with_model(|m| {
        let g = m.graph.as_mut().unwrap();
        let n = g
            .node
            .iter_mut()
            .find(|n| n.name == name)
            .unwrap_or_else(|| panic!("no node {name}"));
        f(n)
    })
}

/// `with_model`, changing the initializer named `name`.
fn with_initializer(name: &str, f: impl FnOnce(&mut tract_onnx::pb::TensorProto)) -> Vec<u8> {
    with_model(|m| {
        let g = m.graph.as_mut().unwrap();
        let t = g
            .initializer
            .iter_mut()
            .find(|t| t.name == name)
            .unwrap_or_else(|| panic!("no initializer {name}"));
        f(t)
    })
}

/// A node's attribute by name.
fn attr<'a>(
    n: &'a mut tract_onnx::pb::NodeProto,
    name: &str,
) -> &'a mut tract_onnx::pb::AttributeProto {
    n.attribute
        .iter_mut()
        .find(|a| a.name == name)
        .unwrap_or_else(|| panic!("no attribute {name}"))
}

/// Writes the bad-model table to `target/bad-models/` (`<n>.onnx` and `index.json` with each
/// case's name and the text its refusal must contain), for the demo's end-to-end test.
pub fn write_bad_models() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bad-models");
    std::fs::create_dir_all(&dir).unwrap();
    let mut index = Vec::new();
    for (i, (name, bytes, want)) in bad_models().into_iter().enumerate() {
        // The over-limit file is 64 MB of zeros: the e2e test makes its own.
        if bytes.len() > 1 << 20 {
            continue;
        }
        let file = format!("{i:02}.onnx");
        std::fs::write(dir.join(&file), &bytes).unwrap();
        index.push(serde_json::json!({ "name": name, "file": file, "want": want }));
    }
    std::fs::write(
        dir.join("index.json"),
        serde_json::to_string_pretty(&index).unwrap(),
    )
    .unwrap();
}

/// Checks that loading `bytes` is refused with a typed model error whose text contains `want`.
pub fn assert_refused(name: &str, bytes: &[u8], want: &str) {
    match nextevent::core::predict::Predictor::from_onnx_bytes(bytes) {
        Ok(_) => panic!("{name}: loaded"),
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.contains(want), "{name}: {msg}");
            assert!(
                matches!(
                    e,
                    nextevent::Error::Model(_)
                        | nextevent::Error::SpecMismatch(_)
                        | nextevent::Error::Graph { .. }
                ),
                "{name}: {e:?}"
            );
        }
    }
}
