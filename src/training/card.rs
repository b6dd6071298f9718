//! The model card: everything a training run measured ([`PipelineReport`]), rendered as
//! Markdown, and the same run as an experiment-tracking record.

use std::fmt::Write as _;

use serde::Serialize;

use crate::core::event::EventKind;
use crate::core::spec::{FeatureSpec, FEATURES, WINDOW};
use crate::data::ingest::IngestReport;
use crate::data::metrics::{EpochStats, Evaluation};
use crate::training::export::Verification;
use crate::training::fit::TrainConfig;
use crate::training::pipeline::PipelineOptions;
use crate::training::synth::Bayes;

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
    pub reliability_uncalibrated: Vec<crate::data::metrics::Bin>,
    pub reliability_calibrated: Vec<crate::data::metrics::Bin>,
    /// The real-shoppers part of a `ship` run: rendered first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub real: Option<crate::training::ship::RealSection>,
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

/// The run as an experiment-tracking record: params (architecture, hyperparameters, data files
/// and their row counts, feature spec, seed), per-epoch metrics (step = epoch), final test
/// metrics (step 0) and the written files as artifacts.
pub fn run_record(
    r: &PipelineReport,
    opts: &PipelineOptions,
    name: &str,
) -> crate::data::tracking::RunRecord {
    let mut rec = crate::data::tracking::RunRecord {
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
        let key = crate::data::tracking::metric_key(n);
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
pub fn epoch_metrics(h: &EpochStats) -> Vec<crate::data::tracking::Metric> {
    let mut rec = crate::data::tracking::RunRecord::default();
    let s = h.epoch as i64;
    rec.metric("train_loss", h.train_loss, s);
    rec.metric("valid_loss", h.valid_loss, s);
    rec.metric("valid_accuracy", h.valid_accuracy, s);
    rec.metric("valid_macro_f1", h.valid_macro_f1, s);
    rec.metric("windows_per_second", h.windows_per_second, s);
    rec.metrics
}

/// The model card as Markdown.
pub fn card_markdown(r: &PipelineReport) -> String {
    let mut s = String::new();
    let e8 = &r.test_int8;
    let label = r.config.model.arch.label();
    let _ = writeln!(s, "# Model card: nextevent {label}\n");
    if let Some(real) = &r.real {
        real_section(&mut s, real);
    }
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
    let generated = if r.real.is_some() {
        " on generated data (the fitted generator; second to the real figures above)"
    } else {
        ""
    };
    let _ = writeln!(s, "\n## Held-out test results{generated} ({} windows)\n\n| model | accuracy | macro-F1 | purchase ROC-AUC | purchase PR-AUC | log loss | ECE |\n|---|---|---|---|---|---|---|", e8.n);
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
            "| Bayes-optimal (generator's process, argmax) | {:.4} | {:.4} | – | – | {} | – |",
            b.accuracy,
            b.macro_f1,
            if b.log_loss > 0.0 {
                format!("{:.4}", b.log_loss)
            } else {
                "–".into()
            }
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

/// The real-shoppers part of a `ship` card: the Jan–Feb headline with intervals, the December
/// figures the decisions were made on, how the model was trained, and the generator's fit.
fn real_section(s: &mut String, r: &crate::training::ship::RealSection) {
    let [fit, dev, test] = r.windows;
    if let Some(t) = &r.test {
        let _ = writeln!(
            s,
            "## On real shoppers (Jan–Feb 2020, {} windows)\n",
            t.windows
        );
        let _ = writeln!(s, "{}", t.markdown());
        let _ = writeln!(
            s,
            "These are the first 999 events of each month of the real shop (`{}`): sessions are \
             cut at both edges of each 30–90 minute slice, Jan–Feb holds {} sessions with a \
             next event, and only {} windows are followed by a purchase, so intervals are wide \
             — read the purchase figures as rough. Jan–Feb was never used to choose anything: \
             it is evaluated by `ship` (which refuses to write the model when the gate fails) \
             and by the CI test `tests/real_gate.rs`.\n",
            r.sample, t.sessions, t.purchases_next
        );
    }
    let _ = writeln!(
        s,
        "## Development month (December 2019, {dev} windows; every decision was made here)\n\n{}",
        r.dev.markdown()
    );
    let _ = writeln!(
        s,
        "## How it was trained\n\nReal windows: {fit} to fit (sessions starting Oct–Nov 2019), {dev} to decide on \
         (December), {test} held out (Jan–Feb 2020). Recipe: {} then fine-tuned on the real \
         Oct–Nov windows ({} epochs at most, learning rate {}, batch {}, early stopping on \
         December's log loss, patience {}), temperature and churn threshold fitted on December.\n",
        match &r.recipe.pretrain {
            Some(p) => format!(
                "pre-trained on {} generated rows ({} epochs at most of {} windows, learning rate {}, early stopping on generated validation log loss),",
                r.generated_rows,
                p.epochs,
                p.windows_per_epoch.map_or("all".into(), |n| n.to_string()),
                p.learning_rate
            ),
            None => "no pre-training;".into(),
        },
        r.recipe.finetune.epochs,
        r.recipe.finetune.learning_rate,
        r.recipe.finetune.batch_size,
        r.recipe.finetune.patience
    );
    if let Some(c) = &r.conversion {
        let _ = writeln!(
            s,
            "## Conversion head: P(buys in this visit)\n\n{}",
            c.markdown()
        );
    }
    let g = &r.generator;
    let _ = writeln!(
        s,
        "## The generator, fitted to real behaviour\n\nA session process with a hidden intent \
         state (a Markov chain over {} states): given the state, the next event's kind (depending \
         on the previous kind), the gap before it (bins 0 s, 1–5 s, 6–30 s, 31–300 s, longer) \
         and whether it repeats the previous product. Fitted by maximum likelihood (EM) on the \
         real Oct–Nov sessions; sessions cut by a month's start get their own initial-state \
         and first-kind distributions; stopping is left out of the likelihood (the sample's \
         session ends are mostly its own edges). The number of states was chosen by \
         December's log-likelihood per event:\n\n| states | Oct–Nov (fit) | December (held out) |\n|---|---|---|",
        g.states
    );
    for (k, f, d) in &g.states_tried {
        let mark = if *k == g.states { " ← chosen" } else { "" };
        let _ = writeln!(s, "| {k}{mark} | {f:.4} | {d:.4} |");
    }
    let (len, buy, share) = g.moments;
    let _ = writeln!(
        s,
        "\nStop probabilities (one per kind) by moment matching — a least-squares penalty on the \
         relative error against the published whole-dataset figures: {len:.2} events per session \
         (published {:.1}), {:.1} % of sessions with a purchase ({:.1} %), event shares \
         view/cart/remove/purchase {:.1} / {:.1} / {:.1} / {:.1} % ({:.1} / {:.1} / {:.1} / {:.1} %).\n\n\
         Side by side, real December against generated sessions cut like the sample (sessions \
         arriving before and during a slice of the same length, only events inside it kept):\n\n{}",
        crate::training::synth::published::EVENTS_PER_SESSION,
        buy * 100.0,
        crate::training::synth::published::SESSIONS_WITH_PURCHASE * 100.0,
        share[0] * 100.0,
        share[1] * 100.0,
        share[2] * 100.0,
        share[3] * 100.0,
        crate::training::synth::published::SHARES[0] * 100.0,
        crate::training::synth::published::SHARES[1] * 100.0,
        crate::training::synth::published::SHARES[2] * 100.0,
        crate::training::synth::published::SHARES[3] * 100.0,
        g.table
    );
}
