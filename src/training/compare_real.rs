//! The comparison on real shoppers: every architecture (CNN+BiGRU, LSTM, GRU, BiGRU, CNN) ×
//! seeds trained by the same recipe as the shipped model — pre-trained on the fitted
//! generator's data, fine-tuned on the real Oct–Nov windows, stopped and calibrated on
//! December — exported to int8 and scored on the real Jan–Feb windows (reported, never used
//! to choose), beside the baselines; generated-data figures follow.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::core::predict::Predictor;
use crate::data::error::Result;
use crate::data::files;
use crate::data::heldout::HeldOut;
use crate::data::real::{test_report, tract_probs, RealData};
use crate::training::compare::Stat;
use crate::training::export::{to_onnx, Weights};
use crate::training::net::Arch;
use crate::training::pipeline::{model_info, prepare};
use crate::training::real::{fit_generator, train_recipe, Generated, Recipe};
use crate::training::ship::write_generated;
use crate::training::synth::Catalog;

/// One model of the comparison.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RealRun {
    pub arch: Arch,
    pub seed: u64,
    pub parameters: usize,
    pub real: HeldOut,
    /// On the generated test windows (second).
    pub generated_accuracy: f64,
    pub generated_macro_f1: f64,
    pub generated_log_loss: f64,
}

/// The comparison's report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RealComparison {
    pub runs: Vec<RealRun>,
    pub command: String,
    pub recipe: Recipe,
    pub generated_rows: u64,
}

/// What the comparison is given.
pub struct RealCompareOptions {
    pub sample: PathBuf,
    pub products: PathBuf,
    pub data_dir: PathBuf,
    pub rows: u64,
    pub archs: Vec<Arch>,
    pub seeds: Vec<u64>,
    pub recipe: Recipe,
    pub out_dir: PathBuf,
    pub command: String,
    pub progress: bool,
}

/// Runs the comparison and writes `COMPARISON-REAL.md` and `comparison-real.json`.
pub fn compare_real(o: &RealCompareOptions) -> Result<RealComparison> {
    let real = RealData::load(&o.sample)?;
    let cat = Catalog::load(&o.products, &o.sample, 42)?;
    let generator = fit_generator(&real, &cat, 4, o.progress);
    let gen_path = o.data_dir.join(format!("fitted-{}-seed42.csv.gz", o.rows));
    write_generated(&cat, &generator, o.rows, 42, &gen_path, o.progress)?;
    let prepared = prepare(std::slice::from_ref(&gen_path), o.progress)?;
    let generated = Generated {
        ds: &prepared.ds,
        train: &prepared.train,
        valid: &prepared.valid,
    };
    let mut runs = Vec::new();
    for &arch in &o.archs {
        for &seed in &o.seeds {
            let mut recipe = o.recipe.clone();
            for c in recipe.pretrain.iter_mut().chain([&mut recipe.finetune]) {
                c.model.arch = arch;
                c.seed = seed;
                c.progress = false;
            }
            let (trained, _) = train_recipe(&real, Some(&generated), &recipe, &mut |_, _| {});
            let info = model_info(&recipe.finetune, "comparison", "comparison run", 0.1);
            let bytes = to_onnx(&trained, Weights::Int8, &info);
            let p = Predictor::from_onnx_bytes(&bytes)?;
            let real_report = test_report(
                &real,
                &p,
                &format!("nextevent-train compare --real ({arch}, seed {seed})"),
            )?;
            let (gp, _) = tract_probs(&p, &prepared.ds, &prepared.test)?;
            let labels: Vec<usize> = prepared
                .test
                .iter()
                .map(|&w| prepared.ds.window(w).1.index())
                .collect();
            let g = crate::data::metrics::evaluate(&gp, &labels);
            if o.progress {
                let m = real_report.model();
                eprintln!(
                    "{} seed {seed}: real Jan–Feb macro-F1 {:.4}, log loss {:.4}; generated macro-F1 {:.4}",
                    arch.label(),
                    m.get("macro_f1").value,
                    m.get("log_loss").value,
                    g.macro_f1
                );
            }
            runs.push(RealRun {
                arch,
                seed,
                parameters: recipe.finetune.model.parameters(),
                real: real_report,
                generated_accuracy: g.accuracy,
                generated_macro_f1: g.macro_f1,
                generated_log_loss: g.log_loss,
            });
        }
    }
    let report = RealComparison {
        runs,
        command: o.command.clone(),
        recipe: o.recipe.clone(),
        generated_rows: o.rows,
    };
    write(&report, &o.out_dir)?;
    Ok(report)
}

/// Writes the Markdown and JSON of a real comparison.
pub fn write(r: &RealComparison, dir: &Path) -> Result<()> {
    files::write(
        &dir.join("comparison-real.json"),
        serde_json::to_string_pretty(r).expect("json"),
    )?;
    files::write(&dir.join("COMPARISON-REAL.md"), markdown(r))
}

/// The comparison as Markdown: real Jan–Feb first.
pub fn markdown(r: &RealComparison) -> String {
    let mut s = String::new();
    let Some(first) = r.runs.first() else {
        return "# Model comparison on real shoppers\n\nNo runs.\n".into();
    };
    let t = &first.real;
    // `compare --real` may pre-train on a lighter budget than `ship`; say which.
    let budget = match &r.recipe.pretrain {
        Some(p) => format!(
            "{} epochs of {} windows",
            p.epochs,
            p.windows_per_epoch
                .map_or("all".to_string(), |w| w.to_string())
        ),
        None => "no pre-training".to_string(),
    };
    let _ = writeln!(
        s,
        "# Model comparison on real shoppers (Jan–Feb 2020, {} windows of {} sessions)\n\n\
         Every architecture trained by the shipped model's recipe — pre-trained on {} rows of the \
         generator fitted to the real Oct–Nov sessions ({}), fine-tuned on the real Oct–Nov windows, \
         stopped and calibrated on December — then exported to int8 and scored in tract on the real \
         Jan–Feb windows, which chose nothing. Mean ± standard deviation over seeds {:?}; the \
         intervals of single runs are in `comparison-real.json`. Baselines fitted on real Oct–Dec.\n\n\
         Command: `{}`\n",
        t.windows,
        t.sessions,
        r.generated_rows,
        budget,
        r.runs.iter().map(|x| x.seed).collect::<std::collections::BTreeSet<_>>(),
        r.command
    );
    let _ = writeln!(
        s,
        "| model | parameters | accuracy | macro-F1 | log loss | purchase PR-AUC | generated macro-F1 | generated log loss |\n|---|---|---|---|---|---|---|---|"
    );
    let mut archs: Vec<Arch> = r.runs.iter().map(|x| x.arch).collect();
    archs.dedup();
    for a in archs {
        let of: Vec<&RealRun> = r.runs.iter().filter(|x| x.arch == a).collect();
        let st = |f: &dyn Fn(&RealRun) -> f64| {
            let v = Stat::of(of.iter().map(|x| f(x)));
            format!("{:.4} ± {:.4}", v.mean, v.std)
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            a.label(),
            of[0].parameters,
            st(&|x| x.real.model().get("accuracy").value),
            st(&|x| x.real.model().get("macro_f1").value),
            st(&|x| x.real.model().get("log_loss").value),
            st(&|x| x.real.model().get("purchase_pr_auc").value),
            st(&|x| x.generated_macro_f1),
            st(&|x| x.generated_log_loss),
        );
    }
    for row in t.rows.iter().skip(1) {
        let cell = |m: &str| {
            if row.hard && !matches!(m, "accuracy" | "macro_f1") {
                "–".to_string()
            } else {
                format!("{:.4}", row.get(m).value)
            }
        };
        let _ = writeln!(
            s,
            "| {} | – | {} | {} | {} | {} | – | – |",
            row.name,
            cell("accuracy"),
            cell("macro_f1"),
            cell("log_loss"),
            cell("purchase_pr_auc")
        );
    }
    let _ = writeln!(s, "\nPer run, the paired difference to the best baseline on real Jan–Feb (macro-F1; log loss, lower is better):\n\n| model | seed | Δ macro-F1 [95 %] | Δ log loss [95 %] | gate |\n|---|---|---|---|---|");
    for x in &r.runs {
        let _ = writeln!(
            s,
            "| {} | {} | {:+.4} [{:+.4}, {:+.4}] | {:+.4} [{:+.4}, {:+.4}] | {} |",
            x.arch.label(),
            x.seed,
            x.real.paired_f1.value,
            x.real.paired_f1.low,
            x.real.paired_f1.high,
            x.real.paired_log_loss.value,
            x.real.paired_log_loss.low,
            x.real.paired_log_loss.high,
            if x.real.gate().is_ok() {
                "passes"
            } else {
                "fails"
            }
        );
    }
    s
}
