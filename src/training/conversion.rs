//! The conversion head around training: its temperature and per-stage churn thresholds,
//! chosen on generated validation windows (the only ones whose labels are all known: the real
//! December has no session that provably ended without a purchase), and its report — figures
//! on generated test and real Jan–Feb windows with known labels, the purchase-intent protocol
//! against its baselines, and how often the new flag fires per stage next to the old one.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::core::insight::FALLBACK_STAGE_THRESHOLDS;
use crate::core::predict::Predictor;
use crate::core::visit::{Stage, StageThresholds, VisitState};
use crate::data::ingest::{Dataset, WindowRef};
use crate::data::intent::{
    aggregates, cart_no_remove, choose_stage_thresholds, conversion_figures, cuts, flag_stats,
    intent, ConversionFigures, FlagStats, Intent, Logistic,
};
use crate::data::real::tract_probs;
use crate::training::fit::{conversion_labels, fit_conversion_platt, logits_heads, platt, Trained};

/// Bootstrap rounds of the conversion figures.
const ROUNDS: usize = 1000;

/// One set of held-out windows and sessions the conversion head is reported on.
pub struct Heldout<'a> {
    pub title: &'a str,
    pub ds: &'a Dataset,
    pub windows: &'a [WindowRef],
    pub sessions: &'a [usize],
    /// Per session of `ds`: may have gone on past the data's edge.
    pub ends_cut: &'a [bool],
}

/// Calibrates the conversion head on validation windows (its temperature) and chooses the
/// per-stage thresholds there; returns them.
pub fn calibrate(
    trained: &mut Trained,
    ds: &Dataset,
    valid: &[WindowRef],
    ends_cut: &[bool],
) -> Option<StageThresholds> {
    trained.model.convert.as_ref()?;
    let ctx = None;
    let device = burn::tensor::Device::default();
    let (mut logits, mut labels, mut stages) = (Vec::new(), Vec::new(), Vec::new());
    for chunk in valid.chunks(4096) {
        let (b, _) = crate::training::fit::encode_windows(ds, chunk, ctx);
        logits.extend(logits_heads(&trained.model, &b, &device).1);
        labels.extend(conversion_labels(ds, chunk, ends_cut));
        stages.extend(
            chunk
                .iter()
                .map(|&w| VisitState::of(ds.window(w).0).stage()),
        );
    }
    let (t, shift) = fit_conversion_platt(&logits, &labels);
    trained.conversion_temperature = t;
    trained.conversion_shift = shift;
    let conv: Vec<f32> = logits.iter().map(|&l| platt(l, t, shift)).collect();
    Some(choose_stage_thresholds(
        &conv,
        &labels,
        &stages,
        FALLBACK_STAGE_THRESHOLDS,
    ))
}

/// The head's report on one held-out set.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HeldoutConversion {
    pub title: String,
    pub figures: ConversionFigures,
    pub intent: Intent,
    /// Per stage: the new flag (conversion below the stage's threshold) and the old one
    /// (P(next event is a purchase) below the card's threshold).
    pub flags: Vec<(Stage, FlagStats, FlagStats)>,
}

/// The conversion head's report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConversionReport {
    pub temperature: f32,
    #[serde(default)]
    pub shift: f32,
    pub thresholds: StageThresholds,
    pub old_threshold: f32,
    pub sets: Vec<HeldoutConversion>,
}

/// Evaluates `model` on `set`: `train_cuts` (windows, labels) fit the logistic baseline.
pub fn evaluate(
    model: &Predictor,
    set: &Heldout,
    logistic: &Logistic,
    seed: u64,
) -> crate::data::Result<HeldoutConversion> {
    let (probs, conv) = tract_probs(model, set.ds, set.windows)?;
    let labels = conversion_labels(set.ds, set.windows, set.ends_cut);
    let session_of: Vec<u32> = set.windows.iter().map(|w| w.session).collect();
    let figures = conversion_figures(&conv, &labels, &session_of, ROUNDS, seed);
    let stages: Vec<Stage> = set
        .windows
        .iter()
        .map(|&w| VisitState::of(set.ds.window(w).0).stage())
        .collect();
    let info = model.info();
    let thresholds = info.stage_thresholds.unwrap_or(FALLBACK_STAGE_THRESHOLDS);
    let new_flag: Vec<bool> = (0..conv.len())
        .map(|i| thresholds.of(stages[i]).is_some_and(|t| conv[i] < t))
        .collect();
    let old_flag: Vec<bool> = probs
        .chunks_exact(4)
        .map(|p| p[3] < info.churn_threshold)
        .collect();
    let new_stats = flag_stats(&new_flag, &labels, &stages);
    let old_stats = flag_stats(&old_flag, &labels, &stages);
    let flags = new_stats
        .into_iter()
        .zip(old_stats)
        .map(|((s, a), (_, b))| (s, a, b))
        .collect();
    // The purchase-intent protocol on this set's sessions.
    let cs = cuts(set.ds, set.sessions, set.ends_cut);
    let cut_windows: Vec<WindowRef> = cs.iter().map(|c| c.window()).collect();
    let (_, cut_conv) = tract_probs(model, set.ds, &cut_windows)?;
    let prefix = |i: usize| set.ds.window(cut_windows[i]).0;
    let preds = vec![
        (
            "nextevent conversion head (P ≥ 0.5)",
            cut_conv.iter().map(|&p| p >= 0.5).collect(),
        ),
        ("always \"no purchase\"", vec![false; cs.len()]),
        (
            "has a cart and no remove yet",
            (0..cs.len()).map(|i| cart_no_remove(prefix(i))).collect(),
        ),
        (
            "logistic regression on whole-prefix aggregates",
            (0..cs.len())
                .map(|i| logistic.predict(&aggregates(prefix(i))) >= 0.5)
                .collect(),
        ),
    ];
    let intent = intent(set.title, &cs, &preds, ROUNDS, seed);
    Ok(HeldoutConversion {
        title: set.title.into(),
        figures,
        intent,
        flags,
    })
}

/// The logistic baseline fitted on the cuts of training sessions with a known label (ours).
pub fn fit_logistic(sets: &[(&Dataset, &[usize], &[bool])]) -> Logistic {
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for (ds, sessions, ends_cut) in sets {
        for c in cuts(ds, sessions, ends_cut) {
            if let Some(label) = c.ours {
                x.push(aggregates(ds.window(c.window()).0));
                y.push(label);
            }
        }
    }
    Logistic::fit(&x, &y)
}

impl ConversionReport {
    pub fn markdown(&self) -> String {
        let mut s = String::new();
        let t = &self.thresholds;
        let _ = writeln!(
            s,
            "The second head gives P(a purchase follows later in this visit | the events so far), \
             trained jointly with the next-event head (binary cross-entropy on windows whose label \
             is known: a later purchase, or a session that ended at least 30 minutes before the \
             data's edge; windows of sessions the edge may have cut without a purchase are left \
             out, never taught \"no purchase\"). Its Platt calibration (temperature {:.2}, shift {:+.2}) and the per-stage churn \
             thresholds were chosen on generated validation windows (the real December has no \
             session that provably ended without a purchase), by the balanced error per stage: \
             browsing **{:.3}**, cart **{:.3}**, cart emptied **{:.3}**; a visit that purchased is \
             never flagged. The old flag was P(next event is a purchase) < {:.2}.\n",
            self.temperature, self.shift, t.browsing, t.cart, t.cart_emptied, self.old_threshold
        );
        for set in &self.sets {
            let f = &set.figures;
            let _ = writeln!(
                s,
                "### {}\n\nConversion head on {} windows with a known label ({} followed by a purchase): \
                 ROC-AUC {}, PR-AUC {}, ECE {}, Brier {}.\n",
                set.title, f.windows, f.positives, f.roc_auc, f.pr_auc, f.ece, f.brier
            );
            let _ = writeln!(
                s,
                "Reliability (mean predicted → observed, windows): {}\n",
                f.reliability
                    .iter()
                    .map(|(p, o, n)| format!("{p:.2} → {o:.2} ({n})"))
                    .collect::<Vec<_>>()
                    .join("; ")
            );
            let _ = writeln!(s, "{}", set.intent.markdown());
            let _ = writeln!(
                s,
                "The challenge winners' ≈ 3.63 was on Coveo's data and base rates: cited, not compared.\n\n\
                 How often the flag fires per stage (windows with a known label; precision = flagged \
                 windows that did not buy, recall = non-buying windows flagged):\n\n\
                 | stage | windows | new: fires | new: precision | new: recall | old: fires | old: precision | old: recall |\n|---|---|---|---|---|---|---|---|"
            );
            for (st, a, b) in &set.flags {
                let _ = writeln!(
                    s,
                    "| {} | {} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} |",
                    st.as_str(),
                    a.windows,
                    a.firing_rate,
                    a.precision,
                    a.recall,
                    b.firing_rate,
                    b.precision,
                    b.recall
                );
            }
            let _ = writeln!(s);
        }
        s
    }
}
