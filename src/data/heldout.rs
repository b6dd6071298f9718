//! The headline evaluation on real shoppers: a model against "repeat the last kind", majority
//! and Markov-1/2 (fitted on the training sessions) on held-out real windows, every figure with
//! a 95 % bootstrap interval over sessions, the paired difference to the best baseline, and
//! the gate `ship` and CI apply (macro-F1 at least the best baseline's, log loss below both
//! Markov chains'). Written as Markdown for the card, the comparison and the README.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::core::event::{Event, EventKind};
use crate::data::baseline::Baseline;
use crate::data::bootstrap::{intervals, paired, Interval, Sessions};
use crate::data::ingest::{Dataset, WindowRef};

/// Bootstrap rounds for the headline intervals.
pub const ROUNDS: usize = 2000;

/// One row: a predictor's figures with intervals.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Row {
    pub name: String,
    /// A hard rule: only accuracy and macro-F1 are meaningful.
    pub hard: bool,
    pub figures: Vec<(String, Interval)>,
}

impl Row {
    pub fn get(&self, metric: &str) -> Interval {
        self.figures
            .iter()
            .find(|(m, _)| m == metric)
            .map(|(_, i)| *i)
            .unwrap_or_default()
    }
}

/// The held-out report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HeldOut {
    /// What the windows are ("real shoppers, Jan–Feb 2020 sessions").
    pub title: String,
    pub windows: usize,
    pub sessions: usize,
    /// Windows followed by a purchase.
    pub purchases_next: usize,
    /// What the baselines were fitted on.
    pub baselines_fitted_on: String,
    /// The model first, then the baselines.
    pub rows: Vec<Row>,
    /// The best baseline by macro-F1 and by log loss, and the paired model − baseline
    /// intervals (macro-F1, accuracy, log loss).
    pub best_f1_baseline: String,
    pub best_ll_baseline: String,
    pub paired_f1: Interval,
    pub paired_accuracy: Interval,
    pub paired_log_loss: Interval,
    pub rounds: usize,
}

/// The baselines of the headline, fitted on `train` windows.
pub fn baselines<'a>(
    train: impl Iterator<Item = (&'a [Event], EventKind)> + Clone,
) -> Vec<Baseline> {
    vec![
        Baseline::RepeatLast,
        Baseline::markov(1, train.clone()),
        Baseline::markov(2, train.clone()),
        Baseline::majority(train),
    ]
}

/// The baselines a model is compared with, and the data they were fitted on (printed with
/// the table, since in-sample baselines flatter themselves).
pub struct Against<'a> {
    pub baselines: &'a [Baseline],
    pub fitted_on: &'a str,
}

/// Evaluates `model` probabilities (`[n,4]`, one row per window of `test`) and the baselines
/// on the same windows.
pub fn evaluate(
    title: &str,
    ds: &Dataset,
    test: &[WindowRef],
    model_name: &str,
    model: &[f32],
    against: Against<'_>,
    seed: u64,
) -> HeldOut {
    let Against {
        baselines,
        fitted_on: baselines_fitted_on,
    } = against;
    assert_eq!(
        model.len(),
        test.len() * 4,
        "one probability row per window"
    );
    let labels: Vec<usize> = test.iter().map(|&w| ds.window(w).1.index()).collect();
    let groups = Sessions::of(&test.iter().map(|w| w.session).collect::<Vec<_>>());
    let resamples = groups.resamples(ROUNDS, seed);
    let mut rows = vec![Row {
        name: model_name.into(),
        hard: false,
        figures: to_rows(intervals(model, &labels, &resamples)),
    }];
    let mut probs = Vec::new();
    for b in baselines {
        let p: Vec<f32> = test
            .iter()
            .flat_map(|&w| b.predict(ds.window(w).0))
            .collect();
        rows.push(Row {
            name: b.name(),
            hard: b.is_hard(),
            figures: to_rows(intervals(&p, &labels, &resamples)),
        });
        probs.push(p);
    }
    // Best baseline by macro-F1 among all; by log loss among those with probabilities.
    let best = |metric: &str, lower: bool, soft_only: bool| -> usize {
        (0..baselines.len())
            .filter(|&i| !(soft_only && baselines[i].is_hard()))
            .max_by(|&a, &b| {
                let (x, y) = (rows[a + 1].get(metric).value, rows[b + 1].get(metric).value);
                if lower {
                    y.total_cmp(&x)
                } else {
                    x.total_cmp(&y)
                }
            })
            .expect("a baseline")
    };
    let (bf, bl) = (best("macro_f1", false, false), best("log_loss", true, true));
    HeldOut {
        title: title.into(),
        windows: test.len(),
        sessions: groups.len(),
        purchases_next: labels.iter().filter(|&&y| y == 3).count(),
        baselines_fitted_on: baselines_fitted_on.into(),
        best_f1_baseline: rows[bf + 1].name.clone(),
        best_ll_baseline: rows[bl + 1].name.clone(),
        paired_f1: paired(model, &probs[bf], &labels, &resamples, "macro_f1"),
        paired_accuracy: paired(model, &probs[bf], &labels, &resamples, "accuracy"),
        paired_log_loss: paired(model, &probs[bl], &labels, &resamples, "log_loss"),
        rows,
        rounds: ROUNDS,
    }
}

fn to_rows(v: Vec<(&'static str, Interval)>) -> Vec<(String, Interval)> {
    v.into_iter().map(|(m, i)| (m.to_string(), i)).collect()
}

impl HeldOut {
    pub fn model(&self) -> &Row {
        &self.rows[0]
    }

    fn row(&self, name: &str) -> Option<&Row> {
        self.rows.iter().skip(1).find(|r| r.name == name)
    }

    /// The gate: the model's macro-F1 is at least that of "repeat the last kind" and of
    /// Markov-1, and its log loss is below Markov-1's and Markov-2's. `Err` says which failed.
    pub fn gate(&self) -> Result<(), String> {
        let m = self.model();
        let mut fails = Vec::new();
        for b in ["repeat the last kind", "last-event Markov (order 1)"] {
            if let Some(r) = self.row(b) {
                if m.get("macro_f1").value < r.get("macro_f1").value {
                    fails.push(format!(
                        "macro-F1 {:.4} is below {b}'s {:.4}",
                        m.get("macro_f1").value,
                        r.get("macro_f1").value
                    ));
                }
            }
        }
        for b in ["last-event Markov (order 1)", "last-event Markov (order 2)"] {
            if let Some(r) = self.row(b) {
                if m.get("log_loss").value >= r.get("log_loss").value {
                    fails.push(format!(
                        "log loss {:.4} is not below {b}'s {:.4}",
                        m.get("log_loss").value,
                        r.get("log_loss").value
                    ));
                }
            }
        }
        if fails.is_empty() {
            Ok(())
        } else {
            Err(fails.join("; "))
        }
    }

    /// "beats", "loses to" or "ties with", from the paired interval of a difference where
    /// higher (`higher_better`) or lower is better.
    fn verdict(iv: &Interval, higher_better: bool) -> &'static str {
        match (iv.sign(), higher_better) {
            (1, true) | (-1, false) => "beats",
            (-1, true) | (1, false) => "loses to",
            _ => "is not distinguishable from",
        }
    }

    /// One sentence per paired comparison, said only as far as the interval allows.
    pub fn verdicts(&self) -> Vec<String> {
        vec![
            format!(
                "Macro-F1: the model {} {} (difference {:+.4}, 95 % paired interval [{:+.4}, {:+.4}]).",
                Self::verdict(&self.paired_f1, true),
                self.best_f1_baseline,
                self.paired_f1.value,
                self.paired_f1.low,
                self.paired_f1.high
            ),
            format!(
                "Accuracy: the model {} {} (difference {:+.4} [{:+.4}, {:+.4}]).",
                Self::verdict(&self.paired_accuracy, true),
                self.best_f1_baseline,
                self.paired_accuracy.value,
                self.paired_accuracy.low,
                self.paired_accuracy.high
            ),
            format!(
                "Log loss: the model {} {} (difference {:+.4} [{:+.4}, {:+.4}]; lower is better).",
                Self::verdict(&self.paired_log_loss, false),
                self.best_ll_baseline,
                self.paired_log_loss.value,
                self.paired_log_loss.low,
                self.paired_log_loss.high
            ),
        ]
    }

    /// The table as Markdown.
    pub fn markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{} — {} windows of {} sessions ({} followed by a purchase). Baselines fitted on {}. \
             Each figure: value [95 % bootstrap interval over sessions, {} resamples].\n",
            self.title,
            self.windows,
            self.sessions,
            self.purchases_next,
            self.baselines_fitted_on,
            self.rounds
        );
        let _ = writeln!(
            s,
            "| predictor | accuracy | macro-F1 | log loss | ECE | purchase ROC-AUC | purchase PR-AUC |\n|---|---|---|---|---|---|---|"
        );
        for (i, r) in self.rows.iter().enumerate() {
            let cell = |m: &str| {
                if r.hard && !matches!(m, "accuracy" | "macro_f1") {
                    "–".to_string()
                } else {
                    r.get(m).to_string()
                }
            };
            let name = if i == 0 {
                format!("**{}**", r.name)
            } else {
                r.name.clone()
            };
            let _ = writeln!(
                s,
                "| {name} | {} | {} | {} | {} | {} | {} |",
                cell("accuracy"),
                cell("macro_f1"),
                cell("log_loss"),
                cell("ece"),
                cell("purchase_roc_auc"),
                cell("purchase_pr_auc")
            );
        }
        let _ = writeln!(s);
        for v in self.verdicts() {
            let _ = writeln!(s, "- {v}");
        }
        let _ = writeln!(
            s,
            "- Gate (`ship` and CI): {}",
            match self.gate() {
                Ok(()) => "passed — macro-F1 at least the best of \"repeat the last kind\" and Markov-1, log loss below Markov-1 and Markov-2.".to_string(),
                Err(e) => format!("FAILED — {e}."),
            }
        );
        s
    }
}
