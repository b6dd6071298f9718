//! `evaluate`: the card's figures for any exported model on any Kaggle-schema events — the
//! model against "repeat the last kind", Markov-1/2 and majority (fitted on training files)
//! with 95 % bootstrap intervals over sessions, a reliability diagram and a confusion matrix,
//! the conversion head's figures when the model has one, and accuracy, log loss and ECE per
//! week, so drift shows. Written as Markdown and JSON, and tracked in MLflow when
//! `MLFLOW_TRACKING_URI` is set.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::core::event::{format_time, Event, EventKind};
use crate::core::predict::Predictor;
use crate::data::error::Result;
use crate::data::files;
use crate::data::heldout::{self, HeldOut};
use crate::data::ingest::{ingest, windows_of, IngestReport, WindowRef};
use crate::data::intent::{conversion_figures, ConversionFigures};
use crate::data::metrics::{evaluate as figures, reliability_bins};
use crate::data::real::tract_probs;
use crate::data::tracking::{RunRecord, Tracker};

/// A week's figures.
#[derive(Debug, Clone, Serialize)]
pub struct Week {
    /// Monday 00:00 UTC of the week sessions started in.
    pub from: String,
    pub windows: usize,
    pub accuracy: f64,
    pub log_loss: f64,
    pub ece: f64,
}

/// What `evaluate` measured.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    pub model: String,
    pub model_bytes: usize,
    pub files: Vec<String>,
    pub ingest: IngestReport,
    pub baselines_from: Vec<String>,
    pub heldout: HeldOut,
    pub weeks: Vec<Week>,
    pub conversion: Option<ConversionFigures>,
    pub written: Vec<String>,
}

const WEEK_MS: i64 = 7 * 86_400_000;
/// 1970-01-05 was a Monday.
const MONDAY_MS: i64 = 4 * 86_400_000;

/// Evaluates `model` on `files`, baselines fitted on `baselines_from` (on `files` themselves,
/// in-sample, when empty); writes `<name>.md`, `<name>.json` and two SVGs into `out_dir`.
pub fn evaluate(
    model: &Predictor,
    files: &[PathBuf],
    baselines_from: &[PathBuf],
    out_dir: &Path,
    name: &str,
    progress: bool,
) -> Result<Evaluation> {
    let ds = ingest(files, progress)?;
    let all: Vec<usize> = (0..ds.sessions.len()).collect();
    let windows = windows_of(&ds, &all);
    if windows.is_empty() {
        return Err(crate::data::Error::NotEnoughData(
            "no session with two or more events to evaluate".into(),
        ));
    }
    let (probs, conv) = tract_probs(model, &ds, &windows)?;
    let (baselines, fitted_on) = if baselines_from.is_empty() {
        let w: Vec<(&[Event], EventKind)> = windows.iter().map(|&w| ds.window(w)).collect();
        (
            heldout::baselines(w.iter().cloned()),
            "the evaluated files themselves (in-sample: pass --baselines-from for held-out baselines)".to_string(),
        )
    } else {
        let train = ingest(baselines_from, false)?;
        let tw = windows_of(&train, &(0..train.sessions.len()).collect::<Vec<_>>());
        let w: Vec<(&[Event], EventKind)> = tw.iter().map(|&w| train.window(w)).collect();
        (
            heldout::baselines(w.iter().cloned()),
            format!(
                "{} ({} windows)",
                baselines_from
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                tw.len()
            ),
        )
    };
    let report = heldout::evaluate(
        &format!(
            "{} on {}",
            model.info().name,
            files
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        &ds,
        &windows,
        &model.info().name,
        &probs,
        heldout::Against {
            baselines: &baselines,
            fitted_on: &fitted_on,
        },
        0xe7a1,
    );
    let labels: Vec<usize> = windows.iter().map(|&w| ds.window(w).1.index()).collect();
    let weeks = weekly(&ds, &windows, &probs, &labels);
    let conversion = model.has_conversion().then(|| {
        let ends_cut: Vec<bool> = ds.censoring().into_iter().map(|c| c.1).collect();
        let known: Vec<Option<bool>> = windows
            .iter()
            .map(|&w| ds.converts(w, ends_cut[w.session as usize]))
            .collect();
        let sessions: Vec<u32> = windows.iter().map(|w| w.session).collect();
        conversion_figures(&conv, &known, &sessions, 1000, 0xe7a1)
    });
    files::create_dir(out_dir)?;
    let rel = out_dir.join(format!("{name}.reliability.svg"));
    let cm = out_dir.join(format!("{name}.confusion.svg"));
    crate::data::plots::reliability_svg(
        &rel,
        &[("this model", &reliability_bins(&probs, &labels, 15))],
    )?;
    crate::data::plots::confusion_svg(
        &cm,
        &figures(&probs, &labels).confusion.m,
        &format!("{} windows", labels.len()),
    )?;
    let md_path = out_dir.join(format!("{name}.md"));
    let json_path = out_dir.join(format!("{name}.json"));
    let mut e = Evaluation {
        model: model.info().name.clone(),
        model_bytes: model.size_bytes(),
        files: files.iter().map(|p| p.display().to_string()).collect(),
        ingest: ds.report.clone(),
        baselines_from: baselines_from
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
        heldout: report,
        weeks,
        conversion,
        written: [&md_path, &json_path, &rel, &cm]
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
    };
    files::write(&md_path, markdown(&e, name))?;
    files::write(&json_path, serde_json::to_string_pretty(&e).expect("json"))?;
    e.written.sort();
    Ok(e)
}

fn weekly(
    ds: &crate::data::ingest::Dataset,
    windows: &[WindowRef],
    probs: &[f32],
    labels: &[usize],
) -> Vec<Week> {
    let mut by: std::collections::BTreeMap<i64, Vec<usize>> = Default::default();
    for (i, w) in windows.iter().enumerate() {
        let start = ds.sessions[w.session as usize].start_ms();
        by.entry((start - MONDAY_MS).div_euclid(WEEK_MS))
            .or_default()
            .push(i);
    }
    by.into_iter()
        .map(|(week, idx)| {
            let p: Vec<f32> = idx
                .iter()
                .flat_map(|&i| probs[i * 4..i * 4 + 4].to_vec())
                .collect();
            let y: Vec<usize> = idx.iter().map(|&i| labels[i]).collect();
            let f = figures(&p, &y);
            Week {
                from: format_time(week * WEEK_MS + MONDAY_MS),
                windows: idx.len(),
                accuracy: f.accuracy,
                log_loss: f.log_loss,
                ece: f.ece,
            }
        })
        .collect()
}

/// The evaluation as Markdown.
pub fn markdown(e: &Evaluation, name: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Evaluation: {} ({} bytes)\n", e.model, e.model_bytes);
    let _ = writeln!(
        s,
        "Events: {} — {} rows read, {} accepted, {} duplicates, {} rejected; {} sessions, {} windows.\n",
        e.files.join(", "),
        e.ingest.rows_read,
        e.ingest.accepted,
        e.ingest.duplicates,
        e.ingest.rejected,
        e.ingest.sessions,
        e.ingest.windows
    );
    let _ = writeln!(s, "{}", e.heldout.markdown());
    let _ = writeln!(
        s,
        "![Reliability]({name}.reliability.svg) ![Confusion]({name}.confusion.svg)\n"
    );
    if let Some(c) = &e.conversion {
        let _ = writeln!(
            s,
            "Conversion head on {} windows with a known label ({} followed by a purchase): ROC-AUC {}, PR-AUC {}, ECE {}, Brier {}.\n",
            c.windows, c.positives, c.roc_auc, c.pr_auc, c.ece, c.brier
        );
    }
    let _ = writeln!(s, "Per week (sessions by the week they start in; drift shows here):\n\n| week from | windows | accuracy | log loss | ECE |\n|---|---|---|---|---|");
    for w in &e.weeks {
        let _ = writeln!(
            s,
            "| {} | {} | {:.4} | {:.4} | {:.4} |",
            w.from, w.windows, w.accuracy, w.log_loss, w.ece
        );
    }
    s
}

/// Logs an evaluation to MLflow (or a local run folder) as one run.
pub fn track(e: &Evaluation, tracker: &Tracker) -> Result<crate::data::tracking::Logged> {
    let mut rec = RunRecord {
        name: format!("evaluate {}", e.model),
        ..Default::default()
    };
    rec.param("model", &e.model);
    rec.param("model_bytes", e.model_bytes);
    for (i, f) in e.files.iter().enumerate() {
        rec.param(format!("data_file_{i}"), f);
    }
    rec.param("baselines_from", e.baselines_from.join(", "));
    rec.param("windows", e.heldout.windows);
    for row in &e.heldout.rows {
        let key = crate::data::tracking::metric_key(&row.name);
        for (m, iv) in &row.figures {
            rec.metric(format!("{key}_{m}"), iv.value, 0);
        }
    }
    for (i, w) in e.weeks.iter().enumerate() {
        rec.metric("weekly_accuracy", w.accuracy, i as i64);
        rec.metric("weekly_log_loss", w.log_loss, i as i64);
        rec.metric("weekly_ece", w.ece, i as i64);
    }
    rec.artifacts = e.written.iter().map(PathBuf::from).collect();
    tracker.log_run(&rec)
}
