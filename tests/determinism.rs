//! Same seed → same model, bit for bit (feature `train`). burn's CPU backend reduces floats on
//! a work-stealing thread pool, whose summation order varies between runs; with one thread the
//! order is fixed, so this binary pins the pool to one thread before it starts.

mod common;

use nextevent::training::pipeline::run;

#[test]
fn same_seed_same_model_single_threaded() {
    std::env::set_var("RAYON_NUM_THREADS", "1");
    let export = |dir: &str| {
        let out = std::env::temp_dir().join(format!(
            "nextevent-determinism-{}-{dir}",
            std::process::id()
        ));
        let opts = common::tiny_pipeline(11, 1, &out, "m");
        run(&opts).unwrap();
        std::fs::read(out.join("m.fp32.onnx")).unwrap()
    };
    let (a, b) = (export("a"), export("b"));
    assert!(a == b, "two runs with seed 11 exported different models");
}
