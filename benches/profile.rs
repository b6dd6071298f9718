//! Where tract's time goes in the prediction stage of `nextevent score` (feature `data`;
//! `cargo bench --bench profile --features data`): the any-batch plan run on batches of the
//! real sample's windows with each node of the plan timed, 40 runs, medians. Prints one table
//! per batch size and writes `target/score-bench/profile-tract.json` (or the name in
//! `NEXTEVENT_PROFILE_OUT`: perf/score.sh alternates three runs with onnxruntime's), which
//! `perf/profile_report.py` sets beside onnxruntime's own profile of the same file
//! (`perf/profile_ort.py`). When `target/score-bench/conv-matmul.onnx` exists (written by
//! `perf/conv_as_matmul.py`), that rewritten graph is profiled too.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nextevent::core::encode::Batch;
use nextevent::core::predict::Predictor;
use nextevent::data::ingest::{ingest, windows_of};
use tract_onnx::prelude::*;
use tract_onnx::tract_core::plan::{eval, SimpleState};

const RUNS: usize = 40;

/// Each node's time in each run: node id → (name, op, one duration per run).
#[derive(Default)]
struct Times(BTreeMap<usize, (String, String, Vec<Duration>)>);

fn median_us(d: &[Duration]) -> f64 {
    let mut v: Vec<f64> = d.iter().map(|d| d.as_secs_f64() * 1e6).collect();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Runs `plan` on `inputs` with every node timed into `times` (one entry per node per run).
fn timed_run(
    plan: &Arc<TypedRunnableModel>,
    inputs: TVec<TValue>,
    times: &mut Times,
) -> TVec<TValue> {
    let mut state = SimpleState::new(plan).unwrap();
    state
        .run_plan_with_eval(inputs, |ctx, op_state, node, input| {
            let t = Instant::now();
            let r = eval(ctx, op_state, node, input);
            let d = t.elapsed();
            times
                .0
                .entry(node.id)
                .or_insert_with(|| (node.name.clone(), node.op().name().to_string(), vec![]))
                .2
                .push(d);
            r
        })
        .unwrap()
}

fn inputs_of(b: &Batch) -> TVec<TValue> {
    use nextevent::core::spec::{N_FEATURES, WINDOW};
    tvec![
        Tensor::from_shape(&[b.n, WINDOW, N_FEATURES], &b.features)
            .unwrap()
            .into(),
        Tensor::from_shape(&[b.n, WINDOW], &b.brands)
            .unwrap()
            .into(),
    ]
}

/// Prints the nodes by median time, their share of the median run, and returns them as JSON.
fn print_table(title: &str, times: &Times, run_us: f64) -> serde_json::Value {
    let mut rows: Vec<_> = times
        .0
        .values()
        .map(|(name, op, d)| (name, op, median_us(d)))
        .collect();
    rows.sort_by(|a, b| b.2.total_cmp(&a.2));
    println!("\n{title}");
    println!("{:>9} {:>6}  {:<18} node", "µs/run", "share", "op");
    let mut json = vec![];
    for (name, op, us) in rows {
        println!("{us:>9.1} {:>5.1}%  {op:<18} {name}", 100.0 * us / run_us);
        json.push(serde_json::json!({"node": name, "op": op, "us_per_run": us}));
    }
    serde_json::Value::Array(json)
}

/// tract's loading steps as `Predictor` takes them (symbolic batch `N`), for a file the
/// graph check would refuse (the experiment's rewritten model).
fn any_batch_plan(path: &std::path::Path) -> Arc<TypedRunnableModel> {
    use nextevent::core::spec::{N_FEATURES, WINDOW};
    let model = tract_onnx::onnx().model_for_path(path).unwrap();
    let n = model.symbols.sym("N");
    model
        .with_input_fact(
            0,
            f32::fact(tract_onnx::tract_core::dims!(n.clone(), WINDOW, N_FEATURES)).into(),
        )
        .unwrap()
        .with_input_fact(
            1,
            i64::fact(tract_onnx::tract_core::dims!(n, WINDOW)).into(),
        )
        .unwrap()
        .into_typed()
        .unwrap()
        .into_decluttered()
        .unwrap()
        .into_optimized()
        .unwrap()
        .into_runnable()
        .unwrap()
}

/// Profiles `plan` on `b`, checks its probabilities against `expected` (exactly, or within
/// `tolerance` for a rewritten graph), prints the table and returns it as JSON.
fn profile(
    label: &str,
    plan: &Arc<TypedRunnableModel>,
    b: &Batch,
    expected: &[f32],
    tolerance: f32,
) -> serde_json::Value {
    let n = b.n;
    // Warm-up, and the outputs checked against the predictor's own run.
    let out = timed_run(plan, inputs_of(b), &mut Times::default());
    let got: Vec<f32> = out[0]
        .to_plain_array_view::<f32>()
        .unwrap()
        .iter()
        .copied()
        .collect();
    let diff = got
        .iter()
        .zip(expected)
        .map(|(a, e)| (a - e).abs())
        .fold(0f32, f32::max);
    assert!(
        got.len() == expected.len() && diff <= tolerance,
        "{label}: differs from Predictor::run_raw by {diff}"
    );
    // Whole runs without the per-node timer, then the same number with it.
    let plain: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let t = Instant::now();
            plan.run(inputs_of(b)).unwrap();
            t.elapsed()
        })
        .collect();
    let mut times = Times::default();
    let timed: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let t = Instant::now();
            timed_run(plan, inputs_of(b), &mut times);
            t.elapsed()
        })
        .collect();
    let us = median_us(&plain);
    println!(
        "\n== {label}, batch {n}: {us:.1} µs per run (median of {RUNS}), {:.1} µs with each node timed ({} nodes run, {:.0} windows/s, max |Δp| {diff:.1e})",
        median_us(&timed),
        times.0.len(),
        n as f64 * 1e6 / us
    );
    let nodes = print_table(
        &format!("{label}: plan nodes, batch {n}, median µs per run"),
        &times,
        us,
    );
    serde_json::json!({"us_per_run": us, "max_abs_diff": diff, "nodes": nodes})
}

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let ds = ingest(&[root.join("../shared/data/cosmetics-sample.csv")], false).unwrap();
    let refs = windows_of(&ds, &(0..ds.sessions.len()).collect::<Vec<_>>());
    let model = Predictor::embedded().unwrap();
    let shipped = model.batch_runnable().unwrap();
    let out = root.join("target/score-bench");
    let alt_path = out.join("conv-matmul.onnx");
    let alt = alt_path.exists().then(|| any_batch_plan(&alt_path));
    let mut report = serde_json::Map::new();
    // Batch 2 is what one window costs (run_heads runs a lone window twice).
    for n in [256usize, 2] {
        let mut b = Batch::with_capacity(n);
        for i in 0..n {
            b.push_with(ds.window(refs[(i * 7) % refs.len()]).0, model.calendar());
        }
        let expected = model.run_raw(&b).unwrap();
        report.insert(
            format!("batch{n}"),
            profile("shipped model", &shipped, &b, &expected, 0.0),
        );
        if let Some(alt) = &alt {
            report.insert(
                format!("conv_matmul_batch{n}"),
                profile("conv as one MatMul (experiment)", alt, &b, &expected, 1e-5),
            );
        }
    }
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(
        out.join(std::env::var("NEXTEVENT_PROFILE_OUT").unwrap_or("profile-tract.json".into())),
        serde_json::to_string_pretty(&report).unwrap(),
    )
    .unwrap();
}
