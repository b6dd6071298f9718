//! The training pipeline and its model card (native, feature `train`): ingest → time split →
//! baselines → training (any architecture) → int8 ONNX export → self-verification → `MODEL_CARD.md`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::baseline::Baseline;
use crate::context::CalendarIndex;
use crate::error::{Error, Result};
use crate::event::{format_time, EventKind};
use crate::export::{to_onnx, verify, Verification, Weights};
use crate::ingest::{ingest, split, windows_of, Dataset, IngestReport, WindowRef};
use crate::metrics::{evaluate, Evaluation};
use crate::predict::Predictor;
use crate::spec::{FeatureSpec, ModelInfo, FEATURES, WINDOW};
use crate::synth::{Bayes, Effects};
use crate::train::{encode_windows, train_with, EpochStats, TrainConfig, Trained};

/// What to train on and where to write.
#[derive(Debug, Clone)]
pub struct PipelineOptions {
    pub inputs: Vec<PathBuf>,
    pub out_dir: PathBuf,
    /// File stem of the outputs (`<stem>.onnx`, `<stem>.fp32.onnx`).
    pub stem: String,
    pub train: TrainConfig,
    /// Test windows used for the export verification.
    pub verify_windows: usize,
    /// One line on where the data came from, for the card.
    pub provenance: String,
}

/// Everything the pipeline measured; rendered into the model card.
#[derive(Debug, Clone, Serialize)]
pub struct PipelineReport {
    pub inputs: Vec<String>,
    pub provenance: String,
    pub ingest: IngestReport,
    pub split: SplitSizes,
    pub config: TrainConfig,
    pub parameters: usize,
    pub history: Vec<EpochStats>,
    pub best_epoch: usize,
    pub train_seconds: f64,
    pub class_weights: [f32; 4],
    pub temperature: f32,
    pub churn_threshold: f32,
    pub test_fp32: Evaluation,
    pub test_int8: Evaluation,
    pub test_int8_uncalibrated_ece: f64,
    pub baselines: Vec<(String, Evaluation)>,
    pub bayes: Option<Bayes>,
    pub verify_fp32: Verification,
    pub verify_int8: Verification,
    pub bytes_fp32: usize,
    pub bytes_int8: usize,
    pub onnx_path: String,
    /// SVG plots written beside the card (file names).
    pub plots: Vec<String>,
    /// Reliability bins of the int8 test predictions, before and after temperature scaling.
    pub reliability_uncalibrated: Vec<crate::metrics::Bin>,
    pub reliability_calibrated: Vec<crate::metrics::Bin>,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct SplitSizes {
    pub rule: String,
    pub train_sessions: usize,
    pub valid_sessions: usize,
    pub test_sessions: usize,
    pub train_windows: usize,
    pub valid_windows: usize,
    pub test_windows: usize,
}

/// burn's logits `[n,4]` and labels for windows, a chunk at a time: a whole split at once
/// (millions of windows at full scale) would not fit in memory.
fn logits_chunked(
    model: &crate::model::Net,
    ds: &Dataset,
    refs: &[WindowRef],
    ctx: Option<&CalendarIndex>,
) -> (Vec<f32>, Vec<usize>) {
    let device = burn::tensor::Device::default();
    let mut logits = Vec::with_capacity(refs.len() * 4);
    let mut labels = Vec::with_capacity(refs.len());
    for chunk in refs.chunks(8192) {
        let (b, y) = encode_windows(ds, chunk, ctx);
        logits.extend(crate::train::logits(model, &b, &device));
        labels.extend(y);
    }
    (logits, labels)
}

fn predict_all(p: &Predictor, ds: &Dataset, refs: &[WindowRef]) -> Result<(Vec<f32>, Vec<usize>)> {
    let ctx = p.calendar();
    let mut probs = Vec::with_capacity(refs.len() * 4);
    let mut labels = Vec::with_capacity(refs.len());
    for chunk in refs.chunks(4096) {
        let (b, y) = encode_windows(ds, chunk, ctx);
        probs.extend(p.run_raw(&b)?);
        labels.extend(y);
    }
    Ok((probs, labels))
}

/// P(purchase) threshold maximising Youden's J (TPR − FPR) for "no purchase next" on the
/// given probabilities; 0.1 when a class is missing.
pub fn choose_threshold(probs: &[f32], labels: &[usize]) -> f32 {
    let pairs: Vec<(f32, bool)> = probs
        .chunks_exact(4)
        .zip(labels)
        .map(|(p, &y)| (p[3], y == 3))
        .collect();
    let pos = pairs.iter().filter(|p| p.1).count() as f64;
    let neg = pairs.len() as f64 - pos;
    if pos == 0.0 || neg == 0.0 {
        return 0.1;
    }
    let mut best = (f64::NEG_INFINITY, 0.1f32);
    for i in 1..100 {
        let t = i as f32 / 100.0;
        let tpr = pairs.iter().filter(|p| p.1 && p.0 >= t).count() as f64 / pos;
        let fpr = pairs.iter().filter(|p| !p.1 && p.0 >= t).count() as f64 / neg;
        if tpr - fpr > best.0 {
            best = (tpr - fpr, t);
        }
    }
    best.1
}

/// Ingested data, its time split and the non-neural baselines on the test windows: computed
/// once and shared by every model trained on it (the pipeline and the comparison).
pub struct Prepared {
    pub ds: Dataset,
    pub inputs: Vec<PathBuf>,
    pub train: Vec<WindowRef>,
    pub valid: Vec<WindowRef>,
    pub test: Vec<WindowRef>,
    pub split: SplitSizes,
    pub baselines: Vec<(String, Evaluation)>,
    pub bayes: Option<Bayes>,
    /// The generator's optional effects (generated data only).
    pub effects: Effects,
}

/// Ingests `inputs`, splits them by time (Kaggle months when the data covers them) and
/// evaluates the baselines (majority, Markov-1, Markov-2, and Bayes-optimal on generated data).
pub fn prepare(inputs: &[PathBuf], progress: bool) -> Result<Prepared> {
    let ds = ingest(inputs, progress)?;
    if progress {
        eprintln!("{}", ds.report);
    }
    let sp = split(&ds);
    let (tr, va, te) = (
        windows_of(&ds, &sp.train),
        windows_of(&ds, &sp.valid),
        windows_of(&ds, &sp.test),
    );
    if tr.is_empty() || te.is_empty() {
        return Err(Error::Payload(format!(
            "not enough sessions with two or more events: {} training and {} test windows",
            tr.len(),
            te.len()
        )));
    }
    let rule = if sp.test_from_ms == 1_580_515_200_000 {
        "Kaggle months: train Oct–Dec 2019, validate Jan 2020, test Feb 2020".to_string()
    } else {
        format!(
            "by time: validate from {}, test from {}",
            format_time(sp.valid_from_ms),
            format_time(sp.test_from_ms)
        )
    };
    let split_sizes = SplitSizes {
        rule,
        train_sessions: sp.train.len(),
        valid_sessions: sp.valid.len(),
        test_sessions: sp.test.len(),
        train_windows: tr.len(),
        valid_windows: va.len(),
        test_windows: te.len(),
    };
    let win = |refs: &[WindowRef]| -> Vec<(&[crate::event::Event], EventKind)> {
        refs.iter().map(|&r| ds.window(r)).collect()
    };
    let (train_w, test_w) = (win(&tr), win(&te));
    let baselines = [
        Baseline::majority(train_w.iter().cloned()),
        Baseline::markov(1, train_w.iter().cloned()),
        Baseline::markov(2, train_w.iter().cloned()),
    ];
    let test_labels: Vec<usize> = test_w.iter().map(|(_, y)| y.index()).collect();
    let baseline_evals: Vec<(String, Evaluation)> = baselines
        .iter()
        .map(|b| {
            (
                b.name(),
                evaluate(
                    &test_w
                        .iter()
                        .flat_map(|(w, _)| b.predict(w))
                        .collect::<Vec<_>>(),
                    &test_labels,
                ),
            )
        })
        .collect();
    let synthetic = inputs.iter().all(|p| sidecar(p).exists());
    let effects = generator_effects(inputs);
    let bayes = synthetic.then(|| Bayes::on_in(test_w.iter().cloned(), &effects.world()));
    drop((train_w, test_w));
    Ok(Prepared {
        ds,
        inputs: inputs.to_vec(),
        train: tr,
        valid: va,
        test: te,
        split: split_sizes,
        baselines: baseline_evals,
        bayes,
        effects,
    })
}

/// The optional effects the generator used for `inputs` (from the first file's sidecar);
/// none for real data.
pub fn generator_effects(inputs: &[PathBuf]) -> Effects {
    inputs
        .first()
        .and_then(|p| std::fs::read_to_string(sidecar(p)).ok())
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| serde_json::from_value::<Effects>(v["config"]["effects"].clone()).ok())
        .unwrap_or_default()
}

/// One trained, exported and evaluated model.
pub struct ModelRun {
    pub trained: Trained,
    pub info: ModelInfo,
    pub fp32: Vec<u8>,
    pub int8: Vec<u8>,
    pub test_fp32: Evaluation,
    pub test_int8: Evaluation,
    pub test_int8_uncalibrated_ece: f64,
    pub verify_fp32: Verification,
    pub verify_int8: Verification,
    pub reliability_uncalibrated: Vec<crate::metrics::Bin>,
    pub reliability_calibrated: Vec<crate::metrics::Bin>,
}

/// Trains `cfg.model.arch` on `p`, chooses the churn threshold on validation, exports fp32 and
/// int8 ONNX (spec and card summary in the metadata), evaluates the int8 file in tract on the
/// test windows and verifies both files against burn.
pub fn train_model(
    p: &Prepared,
    cfg: &TrainConfig,
    stem: &str,
    provenance: &str,
    verify_windows: usize,
    on_epoch: &mut dyn FnMut(&EpochStats),
) -> Result<ModelRun> {
    let ds = &p.ds;
    if cfg.model.context && cfg.calendar.is_none() {
        return Err(Error::Payload(
            "the context features need a calendar (promotion days and holidays)".into(),
        ));
    }
    let ctx = cfg.context_index();
    let trained = train_with(ds, &p.train, &p.valid, cfg, on_epoch);
    let arch = cfg.model.arch;
    let mut info = ModelInfo {
        name: format!("nextevent {} ({stem}, int8)", arch.label()),
        architecture: cfg.model.describe(),
        trained_on: provenance.to_string(),
        weights: "int8 per-channel (DequantizeLinear), calibration folded into the dense layer"
            .into(),
        parameters: cfg.model.parameters(),
        churn_threshold: 0.1,
        created: time::OffsetDateTime::now_utc().date().to_string(),
        ..Default::default()
    };

    // Churn threshold on validation probabilities (burn forward pass, same calibration).
    let (vl, vy) = logits_chunked(&trained.model, ds, &p.valid, ctx.as_ref());
    let vp = crate::train::calibrated(&vl, &trained.logit_shift, trained.temperature);
    info.churn_threshold = choose_threshold(&vp, &vy);

    let fp32 = to_onnx(&trained, Weights::Fp32, &info);
    let int8 = to_onnx(&trained, Weights::Int8, &info);
    let (p32, p8) = (
        Predictor::from_onnx_bytes(&fp32)?,
        Predictor::from_onnx_bytes(&int8)?,
    );
    let (probs32, labels) = predict_all(&p32, ds, &p.test)?;
    let (probs8, _) = predict_all(&p8, ds, &p.test)?;
    let test_fp32 = evaluate(&probs32, &labels);
    let test_int8 = evaluate(&probs8, &labels);
    // ECE with the temperature undone, to show what calibration bought.
    let uncal: Vec<f32> = {
        let (l, _) = logits_chunked(&trained.model, ds, &p.test, ctx.as_ref());
        crate::train::calibrated(&l, &trained.logit_shift, 1.0)
    };
    let test_int8_uncalibrated_ece = evaluate(&uncal, &labels).ece;

    let vrefs = &p.test[..verify_windows.min(p.test.len())];
    let (vbatch, _) = encode_windows(ds, vrefs, ctx.as_ref());
    let reference = trained.probabilities(&vbatch);
    let verify_fp32 = verify(&fp32, &vbatch, &reference)?;
    let verify_int8 = verify(&int8, &vbatch, &reference)?;

    info.test_metrics = vec![
        ("accuracy".into(), test_int8.accuracy),
        ("macro_f1".into(), test_int8.macro_f1),
        ("purchase_roc_auc".into(), test_int8.purchase_roc_auc),
        ("ece".into(), test_int8.ece),
        ("test_windows".into(), test_int8.n as f64),
    ];
    info.baselines = p
        .baselines
        .iter()
        .map(|(n, e)| (n.clone(), e.accuracy, e.macro_f1))
        .collect();
    if let Some(b) = &p.bayes {
        info.baselines.push((
            "Bayes-optimal (generator's own process)".into(),
            b.accuracy,
            b.macro_f1,
        ));
    }
    let int8 = to_onnx(&trained, Weights::Int8, &info);
    let fp32 = to_onnx(&trained, Weights::Fp32, &info);
    Ok(ModelRun {
        reliability_uncalibrated: crate::metrics::reliability(&uncal, &labels, 15),
        reliability_calibrated: crate::metrics::reliability(&probs8, &labels, 15),
        trained,
        info,
        fp32,
        int8,
        test_fp32,
        test_int8,
        test_int8_uncalibrated_ece,
        verify_fp32,
        verify_int8,
    })
}

/// Runs the whole pipeline and writes `<stem>.onnx` (int8), `<stem>.fp32.onnx`, the card
/// (`<stem>.card.md`, `<stem>.card.json`) and its SVG plots into `out_dir`.
pub fn run(opts: &PipelineOptions) -> Result<PipelineReport> {
    run_with(opts, &mut |_| {})
}

/// [`run`], calling `on_epoch` after each training epoch.
pub fn run_with(
    opts: &PipelineOptions,
    on_epoch: &mut dyn FnMut(&EpochStats),
) -> Result<PipelineReport> {
    let p = prepare(&opts.inputs, opts.train.progress)?;
    let m = train_model(
        &p,
        &opts.train,
        &opts.stem,
        &opts.provenance,
        opts.verify_windows,
        on_epoch,
    )?;
    std::fs::create_dir_all(&opts.out_dir)?;
    let onnx_path = opts.out_dir.join(format!("{}.onnx", opts.stem));
    std::fs::write(&onnx_path, &m.int8)?;
    std::fs::write(
        opts.out_dir.join(format!("{}.fp32.onnx", opts.stem)),
        &m.fp32,
    )?;
    let plot = |suffix: &str| opts.out_dir.join(format!("{}.{suffix}.svg", opts.stem));
    crate::plots::curves(&plot("curves"), &m.trained.history, m.trained.best_epoch)?;
    crate::plots::confusion(
        &plot("confusion"),
        &m.test_int8.confusion.m,
        &format!("Held-out test ({} windows), int8", m.test_int8.n),
    )?;
    crate::plots::reliability(
        &plot("reliability"),
        &[
            ("before temperature scaling", &m.reliability_uncalibrated),
            ("after (int8, as shipped)", &m.reliability_calibrated),
        ],
    )?;
    let plots: Vec<String> = ["curves", "confusion", "reliability"]
        .iter()
        .map(|s| format!("{}.{s}.svg", opts.stem))
        .collect();

    let report = PipelineReport {
        inputs: opts
            .inputs
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
        provenance: opts.provenance.clone(),
        ingest: p.ds.report.clone(),
        split: p.split.clone(),
        config: opts.train.clone(),
        parameters: opts.train.model.parameters(),
        history: m.trained.history.clone(),
        best_epoch: m.trained.best_epoch,
        train_seconds: m.trained.seconds,
        class_weights: m.trained.class_weights,
        temperature: m.trained.temperature,
        churn_threshold: m.info.churn_threshold,
        test_fp32: m.test_fp32,
        test_int8: m.test_int8,
        test_int8_uncalibrated_ece: m.test_int8_uncalibrated_ece,
        baselines: p.baselines.clone(),
        bayes: p.bayes.clone(),
        verify_fp32: m.verify_fp32,
        verify_int8: m.verify_int8,
        bytes_fp32: m.fp32.len(),
        bytes_int8: m.int8.len(),
        onnx_path: onnx_path.display().to_string(),
        plots,
        reliability_uncalibrated: m.reliability_uncalibrated,
        reliability_calibrated: m.reliability_calibrated,
    };
    std::fs::write(
        opts.out_dir.join(format!("{}.card.json", opts.stem)),
        serde_json::to_string_pretty(&report).expect("json"),
    )?;
    std::fs::write(
        opts.out_dir.join(format!("{}.card.md", opts.stem)),
        render(&report),
    )?;
    Ok(report)
}

/// The run as an experiment-tracking record: params (architecture, hyperparameters, data files
/// and their row counts, feature spec, seed), per-epoch metrics (step = epoch), final test
/// metrics (step 0) and the written files as artifacts.
pub fn run_record(
    r: &PipelineReport,
    opts: &PipelineOptions,
    name: &str,
) -> crate::tracking::RunRecord {
    let mut rec = crate::tracking::RunRecord {
        name: name.into(),
        ..Default::default()
    };
    let c = &r.config;
    rec.param("architecture", c.model.arch.as_str());
    rec.param("embed_dim", c.model.embed_dim);
    rec.param("conv_channels", c.model.conv_channels);
    rec.param("hidden", c.model.hidden);
    rec.param("parameters", r.parameters);
    rec.param("epochs_max", c.epochs);
    rec.param("batch_size", c.batch_size);
    rec.param("learning_rate", c.learning_rate);
    rec.param("lr_decay", c.lr_decay);
    rec.param("weight_decay", c.weight_decay);
    rec.param("patience", c.patience);
    rec.param("seed", c.seed);
    rec.param(
        "windows_per_epoch",
        c.windows_per_epoch.map_or("all".into(), |n| n.to_string()),
    );
    rec.param(
        "valid_windows",
        c.valid_windows.map_or("all".into(), |n| n.to_string()),
    );
    let spec = FeatureSpec::current();
    rec.param("spec_version", spec.version);
    rec.param("window", WINDOW);
    rec.param("features", FEATURES.len());
    for (i, (file, rows)) in r.ingest.files.iter().enumerate() {
        rec.param(format!("data_file_{i}"), file);
        rec.param(format!("data_file_{i}_rows"), rows);
    }
    rec.param("rows_accepted", r.ingest.accepted);
    rec.param("split", &r.split.rule);
    rec.param("train_windows", r.split.train_windows);
    rec.param("valid_windows_total", r.split.valid_windows);
    rec.param("test_windows", r.split.test_windows);
    rec.param("provenance", &r.provenance);
    for h in &r.history {
        rec.metrics.extend(epoch_metrics(h));
    }
    let mut eval = |prefix: &str, e: &Evaluation| {
        rec.metric(format!("{prefix}accuracy"), e.accuracy, 0);
        rec.metric(format!("{prefix}macro_f1"), e.macro_f1, 0);
        rec.metric(format!("{prefix}log_loss"), e.log_loss, 0);
        rec.metric(format!("{prefix}ece"), e.ece, 0);
        rec.metric(format!("{prefix}purchase_roc_auc"), e.purchase_roc_auc, 0);
        rec.metric(format!("{prefix}purchase_pr_auc"), e.purchase_pr_auc, 0);
        for (k, (p, rc, f)) in EventKind::ALL.iter().zip(e.per_class) {
            rec.metric(format!("{prefix}{}_precision", k.as_str()), p, 0);
            rec.metric(format!("{prefix}{}_recall", k.as_str()), rc, 0);
            rec.metric(format!("{prefix}{}_f1", k.as_str()), f, 0);
        }
    };
    eval("test_", &r.test_int8);
    eval("test_fp32_", &r.test_fp32);
    for (n, e) in &r.baselines {
        let key = crate::tracking::metric_key(n);
        rec.metric(format!("baseline_{key}_accuracy"), e.accuracy, 0);
        rec.metric(format!("baseline_{key}_macro_f1"), e.macro_f1, 0);
    }
    if let Some(b) = &r.bayes {
        rec.metric("bayes_accuracy", b.accuracy, 0);
        rec.metric("bayes_macro_f1", b.macro_f1, 0);
    }
    rec.metric(
        "test_int8_uncalibrated_ece",
        r.test_int8_uncalibrated_ece,
        0,
    );
    rec.metric("temperature", r.temperature as f64, 0);
    rec.metric("churn_threshold", r.churn_threshold as f64, 0);
    rec.metric("best_epoch", r.best_epoch as f64, 0);
    rec.metric("train_seconds", r.train_seconds, 0);
    rec.metric("bytes_int8", r.bytes_int8 as f64, 0);
    rec.metric(
        "export_int8_max_abs_diff",
        r.verify_int8.max_abs_diff as f64,
        0,
    );
    let stem = &opts.stem;
    for f in [
        format!("{stem}.onnx"),
        format!("{stem}.fp32.onnx"),
        format!("{stem}.card.md"),
        format!("{stem}.card.json"),
    ]
    .into_iter()
    .chain(r.plots.iter().cloned())
    {
        rec.artifacts.push(opts.out_dir.join(f));
    }
    rec
}

/// One epoch's figures as tracking metrics (step = epoch), logged live during training and
/// again (deduplicated by the tracker) in the final record.
pub fn epoch_metrics(h: &EpochStats) -> Vec<crate::tracking::Metric> {
    let mut rec = crate::tracking::RunRecord::default();
    let s = h.epoch as i64;
    rec.metric("train_loss", h.train_loss, s);
    rec.metric("valid_loss", h.valid_loss, s);
    rec.metric("valid_accuracy", h.valid_accuracy, s);
    rec.metric("valid_macro_f1", h.valid_macro_f1, s);
    rec.metric("windows_per_second", h.windows_per_second, s);
    rec.metrics
}

/// The generator's sidecar file next to a generated CSV.
pub fn sidecar(csv: &Path) -> PathBuf {
    let mut s = csv.as_os_str().to_owned();
    s.push(".synth.json");
    PathBuf::from(s)
}

/// The model card as Markdown.
pub fn render(r: &PipelineReport) -> String {
    let mut s = String::new();
    let e8 = &r.test_int8;
    let label = r.config.model.arch.label();
    let _ = writeln!(s, "# Model card: nextevent {label}\n");
    let _ = writeln!(s, "**Trained on:** {}\n", r.provenance);
    let _ = writeln!(s, "Inputs: {}", r.inputs.join(", "));
    let _ = writeln!(s, "\n## What it is\n\nPredicts the kind of a shopper's next event (view, cart, remove_from_cart, purchase) from the last T = {WINDOW} events of the session. \
        {label}: {}, with {} per-event features concatenated to the brand embedding. {} parameters. \
        Weights are int8 per channel through `DequantizeLinear`; class-weight prior correction and temperature scaling (T = {:.2}) are folded into the dense layer, so the probabilities are calibrated.",
        r.config.model.describe(), FEATURES.len(), r.parameters, r.temperature);
    let _ = writeln!(
        s,
        "\nFeatures, in order: {}.",
        FEATURES
            .iter()
            .map(|f| format!("`{f}`"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(s, "The full feature spec (version {}) is stored in the ONNX metadata under `nextevent.spec`; the predictor refuses a model whose spec differs.", FeatureSpec::current().version);
    let _ = writeln!(s, "\n## Data\n\n| | |\n|---|---|");
    let i = &r.ingest;
    let _ = writeln!(s, "| rows read | {} |\n| accepted | {} |\n| exact duplicates dropped | {} |\n| rejected | {} |", i.rows_read, i.accepted, i.duplicates, i.rejected);
    for (reason, rj) in &i.rejected_by_reason {
        let _ = writeln!(s, "| rejected: {reason} | {} |", rj.count);
    }
    let _ = writeln!(s, "| sessions | {} ({} without a session id, rebuilt by user + 30 min gap) |\n| windows | {} |", i.sessions, i.sessions_without_id, i.windows);
    let sp = &r.split;
    let _ = writeln!(s, "\nSplit {}; sessions never cross sets.\n\n| set | sessions | windows |\n|---|---|---|\n| train | {} | {} |\n| validation | {} | {} |\n| test | {} | {} |",
        sp.rule, sp.train_sessions, sp.train_windows, sp.valid_sessions, sp.valid_windows, sp.test_sessions, sp.test_windows);
    let _ = writeln!(s, "\n## Training\n\nAdamW (lr {}, ×{} per epoch, weight decay {}), batch {}, up to {} epochs, early stopping on validation macro-F1 (patience {}), seed {}. \
        Class weights (inverse sqrt frequency) {:?}. {}. Best epoch {}; total {:.0} s on this machine.\n",
        r.config.learning_rate, r.config.lr_decay, r.config.weight_decay, r.config.batch_size, r.config.epochs, r.config.patience, r.config.seed,
        r.class_weights.map(|w| (w * 1000.0).round() / 1000.0),
        r.config.windows_per_epoch.map_or("All training windows every epoch".to_string(), |n| format!("{n} windows drawn per epoch")), r.best_epoch, r.train_seconds);
    if let Some(c) = r.plots.iter().find(|p| p.ends_with(".curves.svg")) {
        let _ = writeln!(s, "![Loss and validation macro-F1 per epoch]({c})\n");
    }
    let _ = writeln!(s, "| epoch | train loss | valid loss | valid accuracy | valid macro-F1 | windows/s |\n|---|---|---|---|---|---|");
    for h in &r.history {
        let _ = writeln!(
            s,
            "| {} | {:.4} | {:.4} | {:.4} | {:.4} | {:.0} |",
            h.epoch,
            h.train_loss,
            h.valid_loss,
            h.valid_accuracy,
            h.valid_macro_f1,
            h.windows_per_second
        );
    }
    let _ = writeln!(s, "\n## Held-out test results ({} windows)\n\n| model | accuracy | macro-F1 | purchase ROC-AUC | purchase PR-AUC | log loss | ECE |\n|---|---|---|---|---|---|---|", e8.n);
    let row = |s: &mut String, n: &str, e: &Evaluation| {
        let _ = writeln!(
            s,
            "| {n} | {:.4} | {:.4} | {:.4} | {:.4} | {:.4} | {:.4} |",
            e.accuracy, e.macro_f1, e.purchase_roc_auc, e.purchase_pr_auc, e.log_loss, e.ece
        );
    };
    row(&mut s, &format!("**{label} int8 (shipped)**"), e8);
    row(&mut s, &format!("{label} fp32"), &r.test_fp32);
    for (n, e) in &r.baselines {
        row(&mut s, n, e);
    }
    if let Some(b) = &r.bayes {
        let _ = writeln!(
            s,
            "| Bayes-optimal (generator's process, argmax) | {:.4} | {:.4} | – | – | – | – |",
            b.accuracy, b.macro_f1
        );
        let _ = writeln!(s, "\nThe Bayes-optimal row is the generator's own next-event distribution applied to the same test windows: no model can expect to beat its accuracy (expected accuracy {:.4}). It is not an upper bound for macro-F1.", b.expected_accuracy);
    }
    let _ = writeln!(s, "\nECE without temperature scaling: {:.4}; with it: {:.4}. Default churn threshold (P(purchase) below it = at risk), chosen on validation by Youden's J: **{:.2}**.", r.test_int8_uncalibrated_ece, e8.ece, r.churn_threshold);
    let _ = writeln!(
        s,
        "\nPer class (int8):\n\n| class | precision | recall | F1 |\n|---|---|---|---|"
    );
    for (k, (p, rc, f)) in EventKind::ALL.iter().zip(e8.per_class) {
        let _ = writeln!(s, "| {k} | {p:.4} | {rc:.4} | {f:.4} |");
    }
    let _ = writeln!(s, "\nConfusion matrix (rows = true, columns = predicted; view, cart, remove_from_cart, purchase):\n\n```");
    for row in e8.confusion.m {
        let _ = writeln!(
            s,
            "{}",
            row.iter().map(|v| format!("{v:>9}")).collect::<String>()
        );
    }
    let _ = writeln!(s, "```");
    for (suffix, alt) in [
        (".confusion.svg", "Confusion matrix of the held-out test"),
        (
            ".reliability.svg",
            "Reliability diagram before and after temperature scaling",
        ),
    ] {
        if let Some(p) = r.plots.iter().find(|p| p.ends_with(suffix)) {
            let _ = writeln!(s, "\n![{alt}]({p})");
        }
    }
    let _ = writeln!(s, "\n## Export verification\n\ntract running each exported file vs burn's forward pass on {} held-out windows (probabilities):\n\n| file | bytes | max abs diff | mean abs diff | argmax agreement |\n|---|---|---|---|---|", r.verify_int8.windows);
    let _ = writeln!(
        s,
        "| fp32 | {} | {:.2e} | {:.2e} | {:.4} |",
        r.bytes_fp32,
        r.verify_fp32.max_abs_diff,
        r.verify_fp32.mean_abs_diff,
        r.verify_fp32.argmax_agreement
    );
    let _ = writeln!(
        s,
        "| int8 (shipped) | {} | {:.2e} | {:.2e} | {:.4} |",
        r.bytes_int8,
        r.verify_int8.max_abs_diff,
        r.verify_int8.mean_abs_diff,
        r.verify_int8.argmax_agreement
    );
    let _ = writeln!(
        s,
        "\nPurchase ROC-AUC sanity: {:.4} (int8) vs {:.4} (fp32).",
        e8.purchase_roc_auc, r.test_fp32.purchase_roc_auc
    );
    s
}
