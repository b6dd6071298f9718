//! The model comparison: every architecture × several seeds trained
//! on the same data, split, encoder and budget, exported to int8 ONNX and evaluated in tract;
//! writes `COMPARISON.md`, `comparison.json` and `comparison.svg`, and tracks a parent run
//! with one child run per model and seed.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::core::encode::Batch;
use crate::core::event::EventKind;
use crate::core::predict::Predictor;
use crate::data::error::{Error, Result};
use crate::data::files;
use crate::data::ingest::IngestReport;
use crate::data::metrics::Evaluation;
use crate::data::plots::Bar;
use crate::data::tracking::{RunRecord, Tracker};
use crate::training::card::{epoch_metrics, SplitSizes};
use crate::training::fit::TrainConfig;
use crate::training::net::Arch;
use crate::training::pipeline::{prepare, train_model, ModelRun, Prepared};
use crate::training::synth::Bayes;

/// What to compare, on what, and where to write.
#[derive(Debug, Clone)]
pub struct CompareOptions {
    pub inputs: Vec<PathBuf>,
    /// Where `COMPARISON.md`, `comparison.json` and `comparison.svg` go (with `name` as stem
    /// for the json and svg: `<name>.json`, `<name>.svg`; the Markdown is `<NAME>.md`).
    pub out_dir: PathBuf,
    pub name: String,
    /// The heading of the Markdown.
    pub title: String,
    pub variants: Vec<Variant>,
    pub seeds: Vec<u64>,
    /// The budget and sizes every model gets; `model.arch` and `seed` are set per run.
    pub train: TrainConfig,
    pub provenance: String,
    /// Single-window predictions timed per model (encode + tract run, int8 file).
    pub timing_windows: usize,
    /// The command line that produced the comparison, quoted in the Markdown.
    pub command: String,
}

/// One model in a comparison: an architecture, optionally with the context features or the
/// pooled brand embedding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Variant {
    /// `cnn_bigru`, `lstm`, `cnn_bigru+context`, …
    pub name: String,
    /// `CNN+BiGRU`, `CNN+BiGRU + context`, …
    pub label: String,
    pub arch: Arch,
    pub context: bool,
    pub brand_pool: bool,
}

impl Variant {
    pub fn new(arch: Arch, context: bool, brand_pool: bool) -> Variant {
        let mut name = arch.as_str().to_string();
        let mut label = arch.label().to_string();
        if context {
            name.push_str("+context");
            label.push_str(" + context");
        }
        if brand_pool {
            name.push_str("+brand_pool");
            label.push_str(" + brand pool");
        }
        Variant {
            name,
            label,
            arch,
            context,
            brand_pool,
        }
    }

    /// The plain architectures.
    pub fn archs(archs: &[Arch]) -> Vec<Variant> {
        archs
            .iter()
            .map(|&a| Variant::new(a, false, false))
            .collect()
    }
}

/// One model × seed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CompareRun {
    pub variant: String,
    pub label: String,
    pub arch: Arch,
    pub seed: u64,
    pub parameters: usize,
    pub bytes_int8: usize,
    pub epochs_run: usize,
    pub best_epoch: usize,
    pub train_seconds: f64,
    /// Mean training throughput over the epochs (windows per second).
    pub train_windows_per_second: f64,
    pub temperature: f32,
    /// Test figures of the int8 file in tract.
    pub test: Evaluation,
    pub test_uncalibrated_ece: f64,
    pub export_int8_max_abs_diff: f32,
    pub export_fp32_max_abs_diff: f32,
    /// Median time of one prediction (encode one window + tract run), microseconds.
    pub predict_us_p50: f64,
    /// Per-window time at batch 256, microseconds.
    pub predict_us_batch256: f64,
    pub run_id: Option<String>,
}

/// Mean and sample standard deviation over seeds.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Stat {
    pub mean: f64,
    pub std: f64,
    pub n: usize,
}

impl Stat {
    pub fn of(v: impl IntoIterator<Item = f64>) -> Stat {
        let v: Vec<f64> = v.into_iter().collect();
        let n = v.len();
        if n == 0 {
            return Stat::default();
        }
        let mean = v.iter().sum::<f64>() / n as f64;
        let std = if n > 1 {
            (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        } else {
            0.0
        };
        Stat { mean, std, n }
    }
}

/// One variant over its seeds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ArchSummary {
    pub variant: String,
    pub arch: Arch,
    /// Whether this is an architecture with an addition (context, brand pool).
    pub extended: bool,
    pub label: String,
    pub parameters: usize,
    pub bytes_int8: usize,
    pub accuracy: Stat,
    pub macro_f1: Stat,
    pub purchase_roc_auc: Stat,
    pub purchase_pr_auc: Stat,
    pub log_loss: Stat,
    pub ece: Stat,
    pub uncalibrated_ece: Stat,
    pub train_seconds: Stat,
    pub train_windows_per_second: Stat,
    pub predict_us_p50: Stat,
    pub predict_us_batch256: Stat,
    pub per_class_f1: [Stat; 4],
}

/// The data a comparison ran on, in counts.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DataSummary {
    pub rows_read: u64,
    pub accepted: u64,
    pub duplicates: u64,
    pub rejected: u64,
    pub sessions: u64,
    pub windows: u64,
}

impl From<&IngestReport> for DataSummary {
    fn from(r: &IngestReport) -> Self {
        DataSummary {
            rows_read: r.rows_read,
            accepted: r.accepted,
            duplicates: r.duplicates,
            rejected: r.rejected,
            sessions: r.sessions,
            windows: r.windows,
        }
    }
}

/// Everything the comparison measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ComparisonReport {
    pub title: String,
    pub created: String,
    pub command: String,
    pub machine: String,
    pub inputs: Vec<String>,
    pub provenance: String,
    pub ingest: DataSummary,
    pub split: SplitSizes,
    pub config: TrainConfig,
    pub seeds: Vec<u64>,
    pub summary: Vec<ArchSummary>,
    pub runs: Vec<CompareRun>,
    pub baselines: Vec<(String, Evaluation)>,
    pub bayes: Option<Bayes>,
    /// The answer to "does CNN+BiGRU beat LSTM, GRU and CNN?", in words, from the figures.
    pub answer: String,
    pub seconds: f64,
    pub parent_run: Option<String>,
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Median single-window latency and per-window batch-256 time of `onnx` on test windows.
fn time_predictions(onnx: &[u8], p: &Prepared, n: usize) -> Result<(f64, f64)> {
    let pred = Predictor::from_onnx_bytes(onnx)?;
    let refs = &p.test[..n.min(p.test.len())];
    let mut single = Vec::with_capacity(refs.len());
    for &r in refs {
        let (w, _) = p.ds.window(r);
        let t = Instant::now();
        std::hint::black_box(pred.predict(w)?);
        single.push(t.elapsed().as_secs_f64() * 1e6);
    }
    let refs = &p.test[..256.min(p.test.len())];
    let mut batch = Batch::with_capacity(refs.len());
    for &r in refs {
        batch.push_with(p.ds.window(r).0, pred.calendar());
    }
    let mut per = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        std::hint::black_box(pred.run_raw(&batch)?);
        per.push(t.elapsed().as_secs_f64() * 1e6 / batch.n.max(1) as f64);
    }
    Ok((median(single), median(per)))
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let threads = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!(
        "{cpu}, {threads} threads, {} {}",
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

fn run_params(rec: &mut RunRecord, cfg: &TrainConfig, p: &Prepared) {
    rec.param("architecture", cfg.model.arch.as_str());
    rec.param("seed", cfg.seed);
    rec.param("embed_dim", cfg.model.embed_dim);
    rec.param("conv_channels", cfg.model.conv_channels);
    rec.param("hidden", cfg.model.hidden);
    rec.param("parameters", cfg.model.parameters());
    rec.param("epochs_max", cfg.epochs);
    rec.param("batch_size", cfg.batch_size);
    rec.param("learning_rate", cfg.learning_rate);
    rec.param(
        "windows_per_epoch",
        cfg.windows_per_epoch
            .map_or("all".into(), |n| n.to_string()),
    );
    rec.param("spec_version", crate::core::spec::SPEC_VERSION);
    for (i, (file, rows)) in p.ds.report.files.iter().enumerate() {
        rec.param(format!("data_file_{i}"), file);
        rec.param(format!("data_file_{i}_rows"), rows);
    }
    rec.param("split", &p.split.rule);
}

fn eval_metrics(rec: &mut RunRecord, e: &Evaluation) {
    rec.metric("test_accuracy", e.accuracy, 0);
    rec.metric("test_macro_f1", e.macro_f1, 0);
    rec.metric("test_log_loss", e.log_loss, 0);
    rec.metric("test_ece", e.ece, 0);
    rec.metric("test_purchase_roc_auc", e.purchase_roc_auc, 0);
    rec.metric("test_purchase_pr_auc", e.purchase_pr_auc, 0);
    for (k, (p, r, f)) in EventKind::ALL.iter().zip(e.per_class) {
        rec.metric(format!("test_{}_precision", k.as_str()), p, 0);
        rec.metric(format!("test_{}_recall", k.as_str()), r, 0);
        rec.metric(format!("test_{}_f1", k.as_str()), f, 0);
    }
}

/// Trains, exports and evaluates every architecture with every seed on the same prepared data.
pub fn compare(opts: &CompareOptions, tracker: &Tracker) -> Result<ComparisonReport> {
    let started = Instant::now();
    let p = prepare(&opts.inputs, opts.train.progress)?;
    let mut parent = tracker.start(&format!("comparison ({})", opts.name), None, &[])?;
    let mut parent_rec = RunRecord::default();
    parent_rec.param(
        "variants",
        opts.variants
            .iter()
            .map(|v| v.name.as_str())
            .collect::<Vec<_>>()
            .join(","),
    );
    parent_rec.param(
        "seeds",
        opts.seeds
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join(","),
    );
    run_params(&mut parent_rec, &opts.train, &p);
    parent.log(&parent_rec.params, &[])?;

    // Child runs' ONNX files wait here for upload; unique per comparison, removed at the end.
    let scratch = std::env::temp_dir().join(format!(
        "nextevent-compare-onnx-{}-{}",
        std::process::id(),
        time::OffsetDateTime::now_utc().unix_timestamp_nanos()
    ));
    files::create_dir(&scratch)?;
    let mut runs = Vec::new();
    for v in &opts.variants {
        for &seed in &opts.seeds {
            let arch = v.arch;
            let mut cfg = opts.train.clone();
            cfg.model.arch = arch;
            cfg.model.context = v.context;
            cfg.model.brand_pool = v.brand_pool;
            cfg.seed = seed;
            if v.context && cfg.calendar.is_none() {
                cfg.calendar = p.effects.calendar.clone();
            }
            let name = format!("{} seed {seed}", v.name);
            if cfg.progress {
                eprintln!("== {name} ({} parameters)", cfg.model.parameters());
            }
            let mut child = tracker.start(&name, Some(&parent.run_id), &[])?;
            let mut rec = RunRecord {
                name: name.clone(),
                parent: Some(parent.run_id.clone()),
                ..Default::default()
            };
            run_params(&mut rec, &cfg, &p);
            child.log(&rec.params, &[])?;
            let mut live_err = None;
            let stem = format!("{}-s{seed}", v.name.replace('+', "_"));
            let m: ModelRun = train_model(&p, &cfg, &stem, &opts.provenance, 512, &mut |h| {
                if let Err(e) = child.log(&[], &epoch_metrics(h)) {
                    live_err.get_or_insert(e);
                }
            })?;
            if let Some(e) = live_err {
                child.end(false)?;
                return Err(e);
            }
            let (p50, b256) = time_predictions(&m.int8, &p, opts.timing_windows)?;
            let h = &m.trained.history;
            let run = CompareRun {
                variant: v.name.clone(),
                label: v.label.clone(),
                arch,
                seed,
                parameters: cfg.model.parameters(),
                bytes_int8: m.int8.len(),
                epochs_run: h.len(),
                best_epoch: m.trained.best_epoch,
                train_seconds: m.trained.seconds,
                train_windows_per_second: h.iter().map(|e| e.windows_per_second).sum::<f64>()
                    / h.len().max(1) as f64,
                temperature: m.trained.temperature,
                test_uncalibrated_ece: m.test_int8_uncalibrated_ece,
                export_int8_max_abs_diff: m.verify_int8.max_abs_diff,
                export_fp32_max_abs_diff: m.verify_fp32.max_abs_diff,
                predict_us_p50: p50,
                predict_us_batch256: b256,
                run_id: Some(child.run_id.clone()),
                test: m.test_int8.clone(),
            };
            eval_metrics(&mut rec, &run.test);
            rec.metric("test_uncalibrated_ece", run.test_uncalibrated_ece, 0);
            rec.metric("bytes_int8", run.bytes_int8 as f64, 0);
            rec.metric("train_seconds", run.train_seconds, 0);
            rec.metric("predict_us_p50", p50, 0);
            rec.metric("predict_us_batch256", b256, 0);
            rec.metric(
                "export_int8_max_abs_diff",
                run.export_int8_max_abs_diff as f64,
                0,
            );
            rec.metric("best_epoch", run.best_epoch as f64, 0);
            let onnx = scratch.join(format!("{stem}.onnx"));
            files::write(&onnx, &m.int8)?;
            rec.artifacts.push(onnx);
            child.finish(&rec)?;
            if cfg.progress {
                eprintln!(
                    "   test accuracy {:.4}, macro-F1 {:.4}, purchase AUC {:.4}, ECE {:.4}; {:.0} s; {:.0} µs/prediction",
                    run.test.accuracy, run.test.macro_f1, run.test.purchase_roc_auc, run.test.ece,
                    run.train_seconds, p50
                );
            }
            runs.push(run);
        }
    }

    let summary = summarise(&opts.variants, &runs);
    let answer = answer(&summary, &p.baselines, p.bayes.as_ref());
    let mut report = ComparisonReport {
        title: opts.title.clone(),
        created: time::OffsetDateTime::now_utc().date().to_string(),
        command: opts.command.clone(),
        machine: machine(),
        inputs: opts
            .inputs
            .iter()
            .map(|i| i.display().to_string())
            .collect(),
        provenance: opts.provenance.clone(),
        ingest: (&p.ds.report).into(),
        split: p.split.clone(),
        config: opts.train.clone(),
        seeds: opts.seeds.clone(),
        summary,
        runs,
        baselines: p.baselines.clone(),
        bayes: p.bayes.clone(),
        answer,
        seconds: started.elapsed().as_secs_f64(),
        parent_run: Some(parent.run_id.clone()),
    };
    report.seconds = started.elapsed().as_secs_f64();
    let files = write(&report, &opts.out_dir, &opts.name)?;

    for s in &report.summary {
        let a = s.variant.replace('+', "_");
        parent_rec.metric(format!("{a}_macro_f1_mean"), s.macro_f1.mean, 0);
        parent_rec.metric(format!("{a}_macro_f1_std"), s.macro_f1.std, 0);
        parent_rec.metric(format!("{a}_accuracy_mean"), s.accuracy.mean, 0);
        parent_rec.metric(format!("{a}_accuracy_std"), s.accuracy.std, 0);
        parent_rec.metric(
            format!("{a}_purchase_roc_auc_mean"),
            s.purchase_roc_auc.mean,
            0,
        );
        parent_rec.metric(format!("{a}_ece_mean"), s.ece.mean, 0);
    }
    for (n, e) in &report.baselines {
        let key = crate::data::tracking::metric_key(n);
        parent_rec.metric(format!("baseline_{key}_macro_f1"), e.macro_f1, 0);
        parent_rec.metric(format!("baseline_{key}_accuracy"), e.accuracy, 0);
    }
    parent_rec.artifacts = files;
    parent.finish(&parent_rec)?;
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(report)
}

/// Groups runs by variant, in `variants` order.
pub fn summarise(variants: &[Variant], runs: &[CompareRun]) -> Vec<ArchSummary> {
    variants
        .iter()
        .filter_map(|v| {
            let rs: Vec<&CompareRun> = runs.iter().filter(|r| r.variant == v.name).collect();
            let first = rs.first()?;
            let st = |f: &dyn Fn(&CompareRun) -> f64| Stat::of(rs.iter().map(|r| f(r)));
            Some(ArchSummary {
                variant: v.name.clone(),
                arch: v.arch,
                extended: v.context || v.brand_pool,
                label: v.label.clone(),
                parameters: first.parameters,
                bytes_int8: first.bytes_int8,
                accuracy: st(&|r| r.test.accuracy),
                macro_f1: st(&|r| r.test.macro_f1),
                purchase_roc_auc: st(&|r| r.test.purchase_roc_auc),
                purchase_pr_auc: st(&|r| r.test.purchase_pr_auc),
                log_loss: st(&|r| r.test.log_loss),
                ece: st(&|r| r.test.ece),
                uncalibrated_ece: st(&|r| r.test_uncalibrated_ece),
                train_seconds: st(&|r| r.train_seconds),
                train_windows_per_second: st(&|r| r.train_windows_per_second),
                predict_us_p50: st(&|r| r.predict_us_p50),
                predict_us_batch256: st(&|r| r.predict_us_batch256),
                per_class_f1: std::array::from_fn(|k| st(&|r| r.test.per_class[k].2)),
            })
        })
        .collect()
}

/// Says, from the figures, whether CNN+BiGRU has the best mean test macro-F1 and whether the
/// gap to the runner-up exceeds the spread over seeds; and how the models compare with the
/// Markov baselines and the Bayes-optimal limit.
pub fn answer(
    summary: &[ArchSummary],
    baselines: &[(String, Evaluation)],
    bayes: Option<&Bayes>,
) -> String {
    let mut ranked: Vec<&ArchSummary> = summary.iter().collect();
    ranked.sort_by(|a, b| b.macro_f1.mean.total_cmp(&a.macro_f1.mean));
    let Some(best) = ranked.first() else {
        return "No models were trained.".into();
    };
    let mut s = String::new();
    // An ablation: one architecture with and without additions.
    if let Some(base) = summary.iter().find(|a| !a.extended) {
        if summary.iter().any(|a| a.extended) && summary.iter().all(|a| a.arch == base.arch) {
            for a in summary.iter().filter(|a| a.extended) {
                let gap = a.macro_f1.mean - base.macro_f1.mean;
                let spread = a.macro_f1.std.max(base.macro_f1.std);
                // Log loss measures the probabilities themselves (what the churn flag reads).
                let ll_gain = base.log_loss.mean - a.log_loss.mean;
                let ll_spread = a.log_loss.std.max(base.log_loss.std);
                let verdict = if gap > 2.0 * spread {
                    "helps: the macro-F1 gain is more than twice the seed-to-seed standard deviation; worth turning on where the data has this effect"
                } else if gap < -2.0 * spread {
                    "hurts: leave it off"
                } else if ll_gain > 2.0 * ll_spread {
                    "sharpens the probabilities (the log-loss gain is more than twice the seed spread) without changing the top-1 decisions beyond the seed spread: worth turning on for churn scores where the data has this effect; off by default"
                } else {
                    "makes no difference beyond the seed-to-seed spread: leave it off"
                };
                let _ = write!(
                    s,
                    "{}: test macro-F1 {:.4} ± {:.4} vs {:.4} ± {:.4} without ({:+.4}), log loss {:.4} ± {:.4} vs {:.4} ± {:.4} ({:+.4}), purchase PR-AUC {:+.4} — {verdict}. ",
                    a.label, a.macro_f1.mean, a.macro_f1.std, base.macro_f1.mean, base.macro_f1.std, gap,
                    a.log_loss.mean, a.log_loss.std, base.log_loss.mean, base.log_loss.std, -ll_gain,
                    a.purchase_pr_auc.mean - base.purchase_pr_auc.mean
                );
            }
            if let Some(b) = bayes {
                let _ = write!(
                    s,
                    "The generator's own process reaches accuracy {:.4}, macro-F1 {:.4}.",
                    b.accuracy, b.macro_f1
                );
            }
            return s.trim_end().to_string();
        }
    }
    let hybrid = summary.iter().find(|a| a.arch == Arch::CnnBiGru);
    let fmt =
        |a: &ArchSummary| format!("{} {:.4} ± {:.4}", a.label, a.macro_f1.mean, a.macro_f1.std);
    match hybrid {
        Some(h) if h.arch == best.arch => {
            if let Some(second) = ranked.get(1) {
                let gap = h.macro_f1.mean - second.macro_f1.mean;
                let spread = h.macro_f1.std.max(second.macro_f1.std);
                let _ = write!(
                    s,
                    "CNN+BiGRU has the best mean test macro-F1 ({}), ahead of {} by {:.4}; ",
                    fmt(h),
                    fmt(second),
                    gap
                );
                if gap > 2.0 * spread {
                    let _ = write!(s, "the gap is more than twice the larger seed-to-seed standard deviation ({spread:.4}), so the claim holds on this data.");
                } else {
                    let _ = write!(s, "but the gap is within twice the seed-to-seed standard deviation ({spread:.4}): on this data the claim is not shown — the models are statistically tied.");
                }
            } else {
                let _ = write!(s, "Only CNN+BiGRU was trained ({}).", fmt(h));
            }
        }
        Some(h) => {
            let gap = best.macro_f1.mean - h.macro_f1.mean;
            let spread = h.macro_f1.std.max(best.macro_f1.std);
            let _ = write!(
                s,
                "CNN+BiGRU does not win: {} has the best mean test macro-F1, {:.4} above {}; ",
                fmt(best),
                gap,
                fmt(h)
            );
            if gap > 2.0 * spread {
                let _ = write!(s, "the gap is more than twice the seed-to-seed standard deviation ({spread:.4}), so the seed's claim is refuted on this data.");
            } else {
                let _ = write!(s, "the gap is within twice the seed-to-seed standard deviation ({spread:.4}), so the models are statistically tied and the claim is not supported.");
            }
        }
        None => {
            let _ = write!(
                s,
                "CNN+BiGRU was not part of this comparison; the best is {}.",
                fmt(best)
            );
        }
    }
    if let Some((name, e)) = baselines
        .iter()
        .filter(|(n, _)| n.contains("Markov"))
        .max_by(|a, b| a.1.macro_f1.total_cmp(&b.1.macro_f1))
    {
        let beat = summary
            .iter()
            .filter(|a| a.macro_f1.mean > e.macro_f1)
            .count();
        let _ = write!(
            s,
            " The best non-neural baseline, {name}, reaches macro-F1 {:.4} (accuracy {:.4}); {beat} of {} architectures beat it on mean macro-F1.",
            e.macro_f1,
            e.accuracy,
            summary.len()
        );
    }
    if let Some(b) = bayes {
        let _ = write!(
            s,
            " The generator's own process (Bayes-optimal) reaches accuracy {:.4}, macro-F1 {:.4}: the room left above the best model is {:.4} accuracy.",
            b.accuracy,
            b.macro_f1,
            b.accuracy - best.accuracy.mean
        );
    }
    s
}

/// Re-renders a comparison's Markdown and chart from its JSON (`<dir>/<name>.json`), with the
/// answer recomputed by this build's wording: no retraining.
pub fn rerender(json: &Path) -> Result<ComparisonReport> {
    let text = files::read_text(json)?;
    let mut r: ComparisonReport = serde_json::from_str(&text)
        .map_err(|e| Error::input(json, format!("not a comparison report: {e}")))?;
    r.answer = answer(&r.summary, &r.baselines, r.bayes.as_ref());
    let name = json
        .file_stem()
        .and_then(|s| s.to_str())
        .ok_or_else(|| Error::input(json, "no file name"))?;
    let dir = json.parent().unwrap_or(Path::new("."));
    write(&r, dir, name)?;
    Ok(r)
}

/// Writes `<NAME>.md`, `<name>.json` and `<name>.svg` into `dir`; returns their paths.
pub fn write(r: &ComparisonReport, dir: &Path, name: &str) -> Result<Vec<PathBuf>> {
    files::create_dir(dir)?;
    let svg = dir.join(format!("{name}.svg"));
    let bars = |f: &dyn Fn(&ArchSummary) -> Stat| -> Vec<Bar> {
        r.summary
            .iter()
            .map(|a| {
                let s = f(a);
                Bar {
                    label: a.label.clone(),
                    mean: s.mean,
                    std: s.std,
                }
            })
            .collect()
    };
    let refs = |f: &dyn Fn(&Evaluation) -> f64, bayes: Option<f64>| -> Vec<(String, f64)> {
        r.baselines
            .iter()
            .filter(|(n, _)| n.contains("Markov"))
            .map(|(n, e)| (short(n), f(e)))
            .chain(bayes.map(|b| ("Bayes-optimal".to_string(), b)))
            .collect()
    };
    crate::data::plots::comparison_svg(
        &svg,
        &[
            (
                "Test macro-F1 (mean ± std over seeds)",
                bars(&|a| a.macro_f1),
                refs(&|e| e.macro_f1, r.bayes.as_ref().map(|b| b.macro_f1)),
            ),
            (
                "Test accuracy",
                bars(&|a| a.accuracy),
                refs(&|e| e.accuracy, r.bayes.as_ref().map(|b| b.accuracy)),
            ),
            (
                "Purchase ROC-AUC",
                bars(&|a| a.purchase_roc_auc),
                refs(&|e| e.purchase_roc_auc, None),
            ),
        ],
    )?;
    let json = dir.join(format!("{name}.json"));
    files::write(&json, serde_json::to_string_pretty(r).expect("json"))?;
    let md = dir.join(format!("{}.md", name.to_uppercase()));
    files::write(&md, comparison_markdown(r, &format!("{name}.svg")))?;
    Ok(vec![md, json, svg])
}

/// "last-event Markov (order 2)" → "Markov-2", for legends.
fn short(baseline: &str) -> String {
    match baseline.split("order ").nth(1) {
        Some(rest) => format!("Markov-{}", rest.trim_end_matches(')')),
        None => baseline.to_string(),
    }
}

fn secs(s: f64) -> String {
    if s < 10.0 {
        format!("{s:.1}")
    } else {
        format!("{s:.0}")
    }
}

fn pm(s: &Stat) -> String {
    format!("{:.4} ± {:.4}", s.mean, s.std)
}

/// The comparison as Markdown.
pub fn comparison_markdown(r: &ComparisonReport, svg: &str) -> String {
    let mut s = String::new();
    let c = &r.config;
    let _ = writeln!(s, "# {}\n", r.title);
    let _ = writeln!(s, "**Answer.** {}\n", r.answer);
    let _ = writeln!(s, "![Test macro-F1, accuracy and purchase ROC-AUC per model, mean ± std over seeds, with the Markov baselines and the Bayes-optimal limit as dashed lines]({svg})\n");
    let _ = writeln!(s, "**Data:** {}  \nInputs: {}  \nRows accepted {} of {} read ({} duplicates, {} rejected); {} sessions, {} windows.  \nSplit {}: train {} / validation {} / test {} windows; sessions never cross sets.\n",
        r.provenance, r.inputs.join(", "), r.ingest.accepted, r.ingest.rows_read, r.ingest.duplicates, r.ingest.rejected,
        r.ingest.sessions, r.ingest.windows, r.split.rule, r.split.train_windows, r.split.valid_windows, r.split.test_windows);
    let _ = writeln!(s, "**Protocol.** Same encoder (feature spec v{}), same split and the same budget for every model: up to {} epochs of {} training windows (batch {}, AdamW lr {} ×{} per epoch, weight decay {}), early stopping on validation macro-F1 (patience {}, {} validation windows per epoch), class-weighted cross-entropy with prior correction, temperature scaling on validation. \
        Embedding {} dims, conv {} channels, recurrent hidden {}. Seeds {}. Every figure is the **int8 ONNX file run in tract** on all {} test windows.\n",
        crate::core::spec::SPEC_VERSION, c.epochs, c.windows_per_epoch.map_or(r.split.train_windows, |n| n.min(r.split.train_windows)), c.batch_size, c.learning_rate, c.lr_decay, c.weight_decay, c.patience,
        c.valid_windows.map_or(r.split.valid_windows, |n| n.min(r.split.valid_windows)), c.model.embed_dim, c.model.conv_channels, c.model.hidden,
        r.seeds.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", "), r.split.test_windows);
    let _ = writeln!(s, "| model | params | int8 ONNX bytes | accuracy | macro-F1 | purchase ROC-AUC | purchase PR-AUC | log loss | ECE | train s | train windows/s | native µs/prediction (p50) | µs/window at batch 256 |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for a in &r.summary {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | **{}** | {} | {} | {} | {} | {:.0} | {:.0} | {:.0} | {:.1} |",
            a.label,
            a.parameters,
            a.bytes_int8,
            pm(&a.accuracy),
            pm(&a.macro_f1),
            pm(&a.purchase_roc_auc),
            pm(&a.purchase_pr_auc),
            pm(&a.log_loss),
            pm(&a.ece),
            a.train_seconds.mean,
            a.train_windows_per_second.mean,
            a.predict_us_p50.mean,
            a.predict_us_batch256.mean
        );
    }
    for (n, e) in &r.baselines {
        let _ = writeln!(
            s,
            "| {n} | – | – | {:.4} | {:.4} | {:.4} | {:.4} | {:.4} | {:.4} | – | – | – | – |",
            e.accuracy, e.macro_f1, e.purchase_roc_auc, e.purchase_pr_auc, e.log_loss, e.ece
        );
    }
    if let Some(b) = &r.bayes {
        let _ = writeln!(s, "| Bayes-optimal (generator's process) | – | – | {:.4} | {:.4} | – | – | – | – | – | – | – | – |", b.accuracy, b.macro_f1);
    }
    let _ = writeln!(s, "\nPer-class test F1 (mean ± std):\n\n| model | view | cart | remove_from_cart | purchase | ECE before temperature scaling |\n|---|---|---|---|---|---|");
    for a in &r.summary {
        let f = &a.per_class_f1;
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} |",
            a.label,
            pm(&f[0]),
            pm(&f[1]),
            pm(&f[2]),
            pm(&f[3]),
            pm(&a.uncalibrated_ece)
        );
    }
    let _ = writeln!(s, "\nEvery run:\n\n| model | seed | epochs (best) | accuracy | macro-F1 | purchase AUC | ECE | T | export max abs Δp (int8 / fp32) | train s | tracked run |\n|---|---|---|---|---|---|---|---|---|---|---|");
    for x in &r.runs {
        let _ = writeln!(s, "| {} | {} | {} ({}) | {:.4} | {:.4} | {:.4} | {:.4} | {:.2} | {:.1e} / {:.1e} | {} | `{}` |",
            x.label, x.seed, x.epochs_run, x.best_epoch, x.test.accuracy, x.test.macro_f1, x.test.purchase_roc_auc, x.test.ece,
            x.temperature, x.export_int8_max_abs_diff, x.export_fp32_max_abs_diff, secs(x.train_seconds), x.run_id.as_deref().unwrap_or("–"));
    }
    let _ = writeln!(s, "\nReading the table: ± is the sample standard deviation over {} seeds (different initialisation and window order; same data). \
        Times are wall-clock on {} and vary run to run on a shared machine; the benchmarks (BENCHMARKS.md) measure speed properly. \
        ECE is the expected calibration error of the top prediction (15 bins). The Bayes-optimal row applies the generator's own next-event distribution to the same windows (generated data only).\n",
        r.seeds.len(), r.machine);
    let _ = writeln!(
        s,
        "Produced on {} in {:.0} s by:\n\n```\n{}\n```",
        r.created, r.seconds, r.command
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_is_mean_and_sample_std() {
        let s = Stat::of([1.0, 2.0, 3.0]);
        assert_eq!((s.mean, s.std, s.n), (2.0, 1.0, 3));
        assert_eq!(Stat::of([5.0]).std, 0.0);
        assert_eq!(Stat::of([]).n, 0);
    }

    fn summary(arch: Arch, f1: &[f64]) -> ArchSummary {
        ArchSummary {
            variant: arch.as_str().into(),
            arch,
            extended: false,
            label: arch.label().into(),
            parameters: 1,
            bytes_int8: 1,
            accuracy: Stat::of(f1.iter().copied()),
            macro_f1: Stat::of(f1.iter().copied()),
            purchase_roc_auc: Stat::default(),
            purchase_pr_auc: Stat::default(),
            log_loss: Stat::default(),
            ece: Stat::default(),
            uncalibrated_ece: Stat::default(),
            train_seconds: Stat::default(),
            train_windows_per_second: Stat::default(),
            predict_us_p50: Stat::default(),
            predict_us_batch256: Stat::default(),
            per_class_f1: Default::default(),
        }
    }

    #[test]
    fn the_answer_follows_the_figures() {
        let clear = [
            summary(Arch::CnnBiGru, &[0.80, 0.81, 0.80]),
            summary(Arch::Lstm, &[0.70, 0.71, 0.70]),
        ];
        assert!(answer(&clear, &[], None).contains("the claim holds"));
        let tied = [
            summary(Arch::CnnBiGru, &[0.70, 0.72, 0.71]),
            summary(Arch::Gru, &[0.70, 0.71, 0.705]),
        ];
        assert!(answer(&tied, &[], None).contains("statistically tied"));
        let lost = [
            summary(Arch::CnnBiGru, &[0.60, 0.61, 0.60]),
            summary(Arch::Cnn, &[0.70, 0.71, 0.70]),
        ];
        let a = answer(&lost, &[], None);
        assert!(a.contains("does not win") && a.contains("refuted"), "{a}");
        let markov = Evaluation {
            macro_f1: 0.65,
            accuracy: 0.7,
            ..Default::default()
        };
        let mut with_ctx = summary(Arch::CnnBiGru, &[0.75, 0.76, 0.75]);
        with_ctx.extended = true;
        with_ctx.label = "CNN+BiGRU + context".into();
        let mut with_pool = summary(Arch::CnnBiGru, &[0.70, 0.72, 0.71]);
        with_pool.extended = true;
        with_pool.label = "CNN+BiGRU + brand pool".into();
        with_pool.log_loss = Stat::of([0.75, 0.752, 0.751]);
        // Same decisions, clearly better probabilities.
        let mut sharper = summary(Arch::CnnBiGru, &[0.70, 0.71, 0.705]);
        sharper.extended = true;
        sharper.label = "CNN+BiGRU + sharper".into();
        sharper.log_loss = Stat::of([0.70, 0.701, 0.702]);
        let mut base = summary(Arch::CnnBiGru, &[0.70, 0.71, 0.705]);
        base.log_loss = Stat::of([0.75, 0.751, 0.752]);
        let ablation = [base, with_ctx, with_pool, sharper];
        let a = answer(&ablation, &[], None);
        assert!(
            a.contains("CNN+BiGRU + context: test macro-F1 0.7533") && a.contains("— helps:"),
            "{a}"
        );
        assert!(
            a.contains("CNN+BiGRU + brand pool")
                && a.contains("no difference beyond the seed-to-seed spread: leave it off"),
            "{a}"
        );
        assert!(
            a.contains("CNN+BiGRU + sharper") && a.contains("sharpens the probabilities"),
            "{a}"
        );
        assert!(answer(&lost, &[("Markov-1".into(), markov)], None)
            .contains("1 of 2 architectures beat it"));
    }
}
