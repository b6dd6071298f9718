//! The prediction stage of `nextevent score`, timed (feature `data`; `cargo bench --bench
//! score --features data`): windows per second at batch 1 and batch 256 with 1 and 2 threads,
//! on windows of the real sample encoded once. Writes the encoded inputs and the model to
//! `target/score-bench/` so `perf/score_ort.py` times onnxruntime on exactly the same inputs,
//! and the figures to `target/score-bench/ours.json` (see `perf/score.sh`).

use std::io::Write;
use std::time::Instant;

use nextevent::core::encode::Batch;
use nextevent::core::predict::{Predictor, EMBEDDED_MODEL};
use nextevent::core::spec::{N_FEATURES, WINDOW};
use nextevent::data::ingest::{ingest, windows_of};
use nextevent::data::score::run_batches;

const WINDOWS: usize = 16_384;
const REPEATS: usize = 5;

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = root.join("target/score-bench");
    std::fs::create_dir_all(&out).unwrap();
    let ds = ingest(&[root.join("../shared/data/cosmetics-sample.csv")], false).unwrap();
    let refs = windows_of(&ds, &(0..ds.sessions.len()).collect::<Vec<_>>());
    let model = Predictor::embedded().unwrap();
    let mut all = Batch::with_capacity(WINDOWS);
    for i in 0..WINDOWS {
        all.push_with(ds.window(refs[i % refs.len()]).0, model.calendar());
    }
    // The inputs for onnxruntime: n, then features (f32 LE), then brands (i64 LE).
    let mut f = std::io::BufWriter::new(std::fs::File::create(out.join("inputs.bin")).unwrap());
    f.write_all(&(all.n as u64).to_le_bytes()).unwrap();
    for x in &all.features {
        f.write_all(&x.to_le_bytes()).unwrap();
    }
    for x in &all.brands {
        f.write_all(&x.to_le_bytes()).unwrap();
    }
    f.flush().unwrap();
    std::fs::write(out.join("model.onnx"), EMBEDDED_MODEL).unwrap();

    let singles: Vec<Batch> = (0..2_000).map(|i| all.slice(i, i + 1)).collect();
    let b256: Vec<Batch> = (0..WINDOWS / 256)
        .map(|i| all.slice(i * 256, (i + 1) * 256))
        .collect();
    let mut results = serde_json::Map::new();
    for (label, batches, windows) in [
        ("batch1", &singles, singles.len()),
        ("batch256", &b256, WINDOWS),
    ] {
        for threads in [1usize, 2] {
            run_batches(&model, batches, threads).unwrap(); // warm-up (and the any-batch plan)
            let mut best = f64::INFINITY;
            for _ in 0..REPEATS {
                let t = Instant::now();
                let r = run_batches(&model, batches, threads).unwrap();
                best = best.min(t.elapsed().as_secs_f64());
                assert_eq!(r.iter().map(Vec::len).sum::<usize>(), windows);
            }
            let wps = windows as f64 / best;
            println!("nextevent {label} threads {threads}: {wps:.0} windows/s (best of {REPEATS})");
            results.insert(format!("{label}_threads{threads}"), serde_json::json!(wps));
        }
    }
    results.insert("windows".into(), serde_json::json!(WINDOWS));
    results.insert("features".into(), serde_json::json!([WINDOW, N_FEATURES]));
    std::fs::write(
        out.join("ours.json"),
        serde_json::to_string_pretty(&results).unwrap(),
    )
    .unwrap();
}
