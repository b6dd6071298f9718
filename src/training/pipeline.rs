//! The training pipeline: ingest → time split → baselines → training (any architecture) →
//! int8 ONNX export → self-verification → the model card and its plots.

use std::path::{Path, PathBuf};

use crate::core::context::CalendarIndex;
use crate::core::event::{format_time, EventKind};
use crate::core::predict::Predictor;
use crate::core::spec::ModelInfo;
use crate::data::baseline::Baseline;
use crate::data::error::{Error, Result};
use crate::data::files;
use crate::data::ingest::{ingest, windows_of, Dataset, WindowRef};
use crate::data::metrics::{evaluate, EpochStats, Evaluation};
use crate::data::split::split;
use crate::training::card::{PipelineReport, SplitSizes};
use crate::training::export::{to_onnx, verify, Verification, Weights};
use crate::training::fit::{encode_windows, train_with, TrainConfig, Trained};
use crate::training::process::Process;
use crate::training::synth::{Bayes, Effects};

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

/// burn's logits `[n,4]` and labels for windows, a chunk at a time: a whole split at once
/// (millions of windows at full scale) would not fit in memory.
fn logits_chunked(
    model: &crate::training::net::Net,
    ds: &Dataset,
    refs: &[WindowRef],
    ctx: Option<&CalendarIndex>,
) -> (Vec<f32>, Vec<usize>) {
    let device = burn::tensor::Device::default();
    let mut logits = Vec::with_capacity(refs.len() * 4);
    let mut labels = Vec::with_capacity(refs.len());
    for chunk in refs.chunks(8192) {
        let (b, y) = encode_windows(ds, chunk, ctx);
        logits.extend(crate::training::fit::logits(model, &b, &device));
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
        return Err(Error::NotEnoughData(format!(
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
    let win = |refs: &[WindowRef]| -> Vec<(&[crate::core::event::Event], EventKind)> {
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
    let effects = generator_effects(inputs);
    let bayes = generator_process(inputs)
        .map(|process| Bayes::on(test_w.iter().cloned(), &process, &effects.world()));
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

/// The process that generated `inputs` (from the sidecar of each, which must all agree);
/// `None` for real data or files of another generator.
pub fn generator_process(inputs: &[PathBuf]) -> Option<Process> {
    let mut found: Option<Process> = None;
    for p in inputs {
        let text = std::fs::read_to_string(sidecar(p)).ok()?;
        let v: serde_json::Value = serde_json::from_str(&text).ok()?;
        let process: Process = serde_json::from_value(v["process"].clone()).ok()?;
        match &found {
            Some(f) if *f != process => return None,
            _ => found = Some(process),
        }
    }
    found
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
    pub reliability_uncalibrated: Vec<crate::data::metrics::Bin>,
    pub reliability_calibrated: Vec<crate::data::metrics::Bin>,
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
        return Err(Error::Settings(
            "the context features need a calendar (promotion days and holidays)".into(),
        ));
    }
    let ctx = cfg.context_index();
    let trained = train_with(ds, &p.train, &p.valid, cfg, on_epoch);
    // Churn threshold on validation probabilities (burn forward pass, same calibration).
    let (vl, vy) = logits_chunked(&trained.model, ds, &p.valid, ctx.as_ref());
    let vp = crate::training::fit::calibrated(&vl, &trained.logit_shift, trained.temperature);
    let info = model_info(cfg, stem, provenance, choose_threshold(&vp, &vy));
    export_and_evaluate(p, trained, cfg, info, verify_windows)
}

/// What a model says about itself before its figures are known.
pub fn model_info(
    cfg: &TrainConfig,
    stem: &str,
    provenance: &str,
    churn_threshold: f32,
) -> ModelInfo {
    ModelInfo {
        name: format!("nextevent {} ({stem}, int8)", cfg.model.arch.label()),
        architecture: cfg.model.describe(),
        trained_on: provenance.to_string(),
        weights: "int8 per-channel (DequantizeLinear), calibration folded into the dense layers"
            .into(),
        parameters: cfg.model.parameters(),
        churn_threshold,
        created: time::OffsetDateTime::now_utc().date().to_string(),
        heads: if cfg.model.conversion {
            vec!["next_event".into(), "conversion".into()]
        } else {
            vec!["next_event".into()]
        },
        ..Default::default()
    }
}

/// Exports a trained network (fp32 and int8), evaluates the int8 file in tract on `p`'s test
/// windows and verifies both files against burn; `info`'s figures are filled in.
pub fn export_and_evaluate(
    p: &Prepared,
    trained: Trained,
    cfg: &TrainConfig,
    mut info: ModelInfo,
    verify_windows: usize,
) -> Result<ModelRun> {
    let ds = &p.ds;
    let ctx = cfg.context_index();
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
        crate::training::fit::calibrated(&l, &trained.logit_shift, 1.0)
    };
    let test_int8_uncalibrated_ece = evaluate(&uncal, &labels).ece;

    let vrefs = &p.test[..verify_windows.min(p.test.len())];
    let (vbatch, _) = encode_windows(ds, vrefs, ctx.as_ref());
    let (reference, reference_conv) = trained.heads(&vbatch);
    let verify_fp32 = verify(&fp32, &vbatch, &reference, &reference_conv)?;
    let verify_int8 = verify(&int8, &vbatch, &reference, &reference_conv)?;

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
        reliability_uncalibrated: crate::data::metrics::reliability_bins(&uncal, &labels, 15),
        reliability_calibrated: crate::data::metrics::reliability_bins(&probs8, &labels, 15),
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
    let report = write_card_files(
        &p,
        &m,
        &opts.train,
        &opts.out_dir,
        &opts.stem,
        &opts.provenance,
    )?;
    crate::training::ship::write_report(&report, &opts.out_dir, &opts.stem)?;
    Ok(report)
}

/// Writes `<stem>.onnx` (int8), `<stem>.fp32.onnx` and the card's SVG plots into `out_dir`,
/// and returns the report the card is rendered from.
pub fn write_card_files(
    p: &Prepared,
    m: &ModelRun,
    cfg: &TrainConfig,
    out_dir: &Path,
    stem: &str,
    provenance: &str,
) -> Result<PipelineReport> {
    files::create_dir(out_dir)?;
    let onnx_path = out_dir.join(format!("{stem}.onnx"));
    files::write(&onnx_path, &m.int8)?;
    files::write(&out_dir.join(format!("{stem}.fp32.onnx")), &m.fp32)?;
    let plot = |suffix: &str| out_dir.join(format!("{stem}.{suffix}.svg"));
    crate::data::plots::curves_svg(&plot("curves"), &m.trained.history, m.trained.best_epoch)?;
    crate::data::plots::confusion_svg(
        &plot("confusion"),
        &m.test_int8.confusion.m,
        &format!("Held-out test ({} windows), int8", m.test_int8.n),
    )?;
    crate::data::plots::reliability_svg(
        &plot("reliability"),
        &[
            ("before temperature scaling", &m.reliability_uncalibrated),
            ("after (int8, as shipped)", &m.reliability_calibrated),
        ],
    )?;
    let plots: Vec<String> = ["curves", "confusion", "reliability"]
        .iter()
        .map(|s| format!("{stem}.{s}.svg"))
        .collect();
    Ok(PipelineReport {
        inputs: p.inputs.iter().map(|p| p.display().to_string()).collect(),
        provenance: provenance.to_string(),
        ingest: p.ds.report.clone(),
        split: p.split.clone(),
        config: cfg.clone(),
        parameters: cfg.model.parameters(),
        history: m.trained.history.clone(),
        best_epoch: m.trained.best_epoch,
        train_seconds: m.trained.seconds,
        class_weights: m.trained.class_weights,
        temperature: m.trained.temperature,
        churn_threshold: m.info.churn_threshold,
        test_fp32: m.test_fp32.clone(),
        test_int8: m.test_int8.clone(),
        test_int8_uncalibrated_ece: m.test_int8_uncalibrated_ece,
        baselines: p.baselines.clone(),
        bayes: p.bayes.clone(),
        verify_fp32: m.verify_fp32.clone(),
        verify_int8: m.verify_int8.clone(),
        bytes_fp32: m.fp32.len(),
        bytes_int8: m.int8.len(),
        onnx_path: onnx_path.display().to_string(),
        plots,
        reliability_uncalibrated: m.reliability_uncalibrated.clone(),
        reliability_calibrated: m.reliability_calibrated.clone(),
        real: None,
    })
}

/// Exports `run`'s network again with its (updated) `info` in the metadata.
pub fn reexport(mut run: ModelRun, _cfg: &TrainConfig) -> Result<ModelRun> {
    run.int8 = to_onnx(&run.trained, Weights::Int8, &run.info);
    run.fp32 = to_onnx(&run.trained, Weights::Fp32, &run.info);
    Predictor::from_onnx_bytes(&run.int8)?;
    Ok(run)
}

/// The generator's sidecar file next to a generated CSV.
pub fn sidecar(csv: &Path) -> PathBuf {
    let mut s = csv.as_os_str().to_owned();
    s.push(".synth.json");
    PathBuf::from(s)
}
