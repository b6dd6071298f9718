//! Fuzz target: structure-aware model loading. The fuzzer's bytes are a program of graph
//! mutations (drop or reorder a node's inputs, change attributes, initializer shapes, data
//! types and bytes, swap one supported operator for another, duplicate, remove or move nodes,
//! change graph input/output shapes, metadata and versions) applied to a decoded nextevent
//! export; the result is re-encoded and loaded. Invariants: `Ok` predicts finite
//! probabilities summing to 1 for a window and for a batch; `Err` is a typed error; any panic
//! is a finding (libFuzzer aborts on it, even inside the predictor's `catch_unwind`).
//! Built with `--features unchecked`, the structural graph check is off so tract itself is
//! fuzzed. Every 2^k executions it prints how many reached tract and ran.
#![no_main]

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use nextevent::core::predict::Predictor;
use nextevent_fuzz::graph::{mutate, Mutation, BASES};
use prost::Message;
use tract_onnx::pb::ModelProto;

static RUNS: AtomicU64 = AtomicU64::new(0);
static LOADED: AtomicU64 = AtomicU64::new(0);
static RAN: AtomicU64 = AtomicU64::new(0);
static STATS: std::sync::OnceLock<Option<std::ffi::OsString>> = std::sync::OnceLock::new();
static DUMP: std::sync::OnceLock<Option<std::ffi::OsString>> = std::sync::OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(base) = u.choose_index(BASES.len()) else {
        return;
    };
    let mut model = ModelProto::decode(BASES[base]).expect("a base model decodes");
    let steps: Vec<Mutation> = match Vec::arbitrary(&mut u) {
        Ok(s) => s,
        Err(_) => return,
    };
    for m in steps.iter().take(8) {
        mutate(&mut model, m);
    }
    let bytes = model.encode_to_vec();
    // `NEXTEVENT_FUZZ_DUMP=FILE` writes the mutated model (and prints the steps), to turn a
    // crash input into a readable regression case: `model_graph ARTIFACT` runs just that input.
    if let Some(path) = DUMP.get_or_init(|| std::env::var_os("NEXTEVENT_FUZZ_DUMP")) {
        eprintln!("base {base}, steps {steps:?}");
        std::fs::write(path, &bytes).expect("NEXTEVENT_FUZZ_DUMP is writable");
    }
    let n = RUNS.fetch_add(1, Relaxed) + 1;
    match Predictor::from_onnx_bytes(&bytes) {
        Ok(p) => {
            LOADED.fetch_add(1, Relaxed);
            let seqs = nextevent_fuzz::graph::windows();
            let refs: Vec<&[nextevent::Event]> = seqs.iter().map(Vec::as_slice).collect();
            for r in [p.predict(refs[0]).map(|x| vec![x]), p.predict_batch(&refs)] {
                if let Ok(preds) = r {
                    RAN.fetch_add(1, Relaxed);
                    for pred in preds {
                        let s: f32 = pred.probabilities.iter().sum();
                        assert!(
                            pred.probabilities
                                .iter()
                                .all(|x| x.is_finite() && *x >= 0.0)
                                && (s - 1.0).abs() < 1e-3,
                            "a loaded model predicted {:?}",
                            pred.probabilities
                        );
                    }
                }
            }
        }
        Err(e) => {
            if !matches!(e, nextevent::Error::SpecMismatch(_)) {}
            // Typed by construction; the text must say something.
            assert!(!e.to_string().is_empty());
        }
    }
    // `NEXTEVENT_FUZZ_STATS=FILE` appends `pid runs loaded ran` after every run: in libFuzzer's
    // fork mode each job is its own process, whose stderr is not kept.
    if let Some(path) = STATS.get_or_init(|| std::env::var_os("NEXTEVENT_FUZZ_STATS")) {
        use std::io::Write;
        let line = format!(
            "{} {n} {} {}\n",
            std::process::id(),
            LOADED.load(Relaxed),
            RAN.load(Relaxed)
        );
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .expect("NEXTEVENT_FUZZ_STATS is writable");
        f.write_all(line.as_bytes())
            .expect("NEXTEVENT_FUZZ_STATS is writable");
    }
    if n.is_power_of_two() {
        eprintln!(
            "model_graph stats: runs {n}, loaded by tract {}, predicted {}",
            LOADED.load(Relaxed),
            RAN.load(Relaxed)
        );
    }
});
