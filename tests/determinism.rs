//! Same seed → same model, bit for bit (feature `train`). burn's CPU backend reduces floats on
//! a work-stealing thread pool, whose summation order varies between runs; with one thread the
//! order is fixed, so this binary pins the pool to one thread before it starts.

use std::path::Path;

use nextevent::card::{run, PipelineOptions};
use nextevent::model::ModelConfig;
use nextevent::train::TrainConfig;

#[test]
fn same_seed_same_model_single_threaded() {
    std::env::set_var("RAYON_NUM_THREADS", "1");
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/cosmetics-sample.csv");
    let export = |dir: &str| {
        let out = std::env::temp_dir().join(format!(
            "nextevent-determinism-{}-{dir}",
            std::process::id()
        ));
        let opts = PipelineOptions {
            inputs: vec![sample.clone()],
            out_dir: out.clone(),
            stem: "m".into(),
            train: TrainConfig {
                model: ModelConfig {
                    embed_dim: 4,
                    conv_channels: 8,
                    hidden: 8,
                },
                epochs: 1,
                seed: 11,
                progress: false,
                ..TrainConfig::default()
            },
            verify_windows: 256,
            provenance: "determinism test".into(),
        };
        run(&opts).unwrap();
        std::fs::read(out.join("m.fp32.onnx")).unwrap()
    };
    let (a, b) = (export("a"), export("b"));
    assert!(a == b, "two runs with seed 11 exported different models");
}
