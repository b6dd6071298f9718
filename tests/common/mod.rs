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
    ]
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
                    nextevent::Error::Model(_) | nextevent::Error::SpecMismatch(_)
                ),
                "{name}: {e:?}"
            );
        }
    }
}
