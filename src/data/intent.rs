//! The conversion head's evaluation: P(a purchase later in this visit) on windows whose label
//! is known (ROC-AUC, PR-AUC, ECE, Brier), the purchase-intent protocol of the SIGIR eCom 2021
//! data challenge (Coveo's `evaluation/evaluation.py`: one cut at the first add-to-cart and 2,
//! 4, 6, 8, 10 events after it, before the first purchase; a hard yes/no per cut; accuracy per
//! cut weighted 1.0 … 0.5) with their label (the first carted product is bought) and ours (any
//! purchase follows), against three baselines, and how often the churn flag fires per stage.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::core::event::{Event, EventKind};
use crate::core::visit::{Stage, StageThresholds, VisitState};
use crate::data::bootstrap::{Interval, Sessions};
use crate::data::ingest::{Dataset, WindowRef};
use crate::data::metrics::{average_precision, roc_auc};

/// Cut offsets after the first add-to-cart and their weights (the challenge's).
pub const CUTS: [(usize, f64); 6] = [(0, 1.0), (2, 0.9), (4, 0.8), (6, 0.7), (8, 0.6), (10, 0.5)];

/// One cut of a session: the prefix of `len` events, `after` events past the first cart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cut {
    pub session: u32,
    pub len: u32,
    pub after: u8,
    /// The challenge's label: the first carted product is bought later (unknown when not and
    /// the session may have gone on past the data).
    pub theirs: Option<bool>,
    /// Ours: any purchase follows.
    pub ours: Option<bool>,
}

impl Cut {
    pub fn window(&self) -> WindowRef {
        WindowRef {
            session: self.session,
            len: self.len,
        }
    }
}

/// The cuts of `sessions` (sessions with an add-to-cart before any purchase); `ends_cut[s]`
/// says whether session `s` may have gone on past the data's edge.
pub fn cuts(ds: &Dataset, sessions: &[usize], ends_cut: &[bool]) -> Vec<Cut> {
    let mut out = Vec::new();
    for &s in sessions {
        let ev = &ds.sessions[s].events;
        let Some(first_cart) = ev.iter().position(|e| e.kind == EventKind::Cart) else {
            continue;
        };
        let first_purchase = ev.iter().position(|e| e.kind == EventKind::Purchase);
        if first_purchase.is_some_and(|p| p < first_cart) {
            continue;
        }
        let product = ev[first_cart].product_id;
        for (after, _) in CUTS {
            let len = first_cart + 1 + after;
            // Truncated before the first purchase, and something must follow the cut.
            if len >= ev.len() || first_purchase.is_some_and(|p| len > p) {
                break;
            }
            let rest = &ev[len..];
            let bought_it = rest
                .iter()
                .any(|e| e.kind == EventKind::Purchase && e.product_id == product);
            let bought = rest.iter().any(|e| e.kind == EventKind::Purchase);
            let known = |yes: bool| {
                if yes {
                    Some(true)
                } else if ends_cut[s] {
                    None
                } else {
                    Some(false)
                }
            };
            out.push(Cut {
                session: s as u32,
                len: len as u32,
                after: after as u8,
                theirs: known(bought_it),
                ours: known(bought),
            });
        }
    }
    out
}

/// The challenge's score: accuracy per cut offset, weighted and summed over the offsets
/// present (their `weighted_micro_f1`; 4.5 when every offset is present and all are right).
pub fn weighted_score(preds: &[bool], labels: &[bool], after: &[u8]) -> f64 {
    CUTS.iter()
        .filter_map(|&(n, w)| {
            let idx: Vec<usize> = (0..after.len())
                .filter(|&i| after[i] as usize == n)
                .collect();
            (!idx.is_empty()).then(|| {
                w * idx.iter().filter(|&&i| preds[i] == labels[i]).count() as f64 / idx.len() as f64
            })
        })
        .sum()
}

/// Whole-prefix aggregates, the standard features of the challenge's papers and notebooks:
/// counts per kind, distinct products, length, time span and mean gap, price mean and max,
/// items still in the cart.
pub fn aggregates(prefix: &[Event]) -> Vec<f64> {
    let n = prefix.len() as f64;
    let count = |k: EventKind| prefix.iter().filter(|e| e.kind == k).count() as f64;
    let mut products: Vec<u64> = prefix.iter().map(|e| e.product_id).collect();
    products.sort_unstable();
    products.dedup();
    let span = (prefix.last().map_or(0, |e| e.time_ms) - prefix.first().map_or(0, |e| e.time_ms))
        .max(0) as f64
        / 1000.0;
    let prices: Vec<f64> = prefix.iter().map(|e| e.price as f64).collect();
    let in_cart = VisitState::of(prefix).in_cart.values().sum::<u32>() as f64;
    vec![
        count(EventKind::View).ln_1p(),
        count(EventKind::Cart).ln_1p(),
        count(EventKind::RemoveFromCart).ln_1p(),
        (products.len() as f64).ln_1p(),
        n.ln_1p(),
        span.ln_1p(),
        (span / n.max(1.0)).ln_1p(),
        (prices.iter().sum::<f64>() / n.max(1.0)).ln_1p(),
        prices.iter().cloned().fold(0.0, f64::max).ln_1p(),
        in_cart.ln_1p(),
        (prefix.last().map(|e| e.kind) == Some(EventKind::Cart)) as u8 as f64,
    ]
}

/// A logistic regression on standardised features, fitted by gradient descent with a small
/// L2 penalty: the challenge's standard whole-prefix baseline.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Logistic {
    pub mean: Vec<f64>,
    pub std: Vec<f64>,
    pub w: Vec<f64>,
    pub b: f64,
}

impl Logistic {
    pub fn fit(x: &[Vec<f64>], y: &[bool]) -> Logistic {
        let d = x.first().map_or(0, Vec::len);
        let n = x.len().max(1) as f64;
        let mean: Vec<f64> = (0..d)
            .map(|j| x.iter().map(|r| r[j]).sum::<f64>() / n)
            .collect();
        let std: Vec<f64> = (0..d)
            .map(|j| {
                let v = x.iter().map(|r| (r[j] - mean[j]).powi(2)).sum::<f64>() / n;
                v.sqrt().max(1e-9)
            })
            .collect();
        let z: Vec<Vec<f64>> = x
            .iter()
            .map(|r| (0..d).map(|j| (r[j] - mean[j]) / std[j]).collect())
            .collect();
        let pos = y.iter().filter(|&&v| v).count() as f64;
        let mut b = ((pos + 0.5) / (n - pos + 0.5)).ln();
        let mut w = vec![0.0; d];
        let (lr, l2) = (0.5, 1e-3);
        for _ in 0..400 {
            let mut gw = vec![0.0; d];
            let mut gb = 0.0;
            for (r, &t) in z.iter().zip(y) {
                let p =
                    1.0 / (1.0 + (-(b + r.iter().zip(&w).map(|(a, c)| a * c).sum::<f64>())).exp());
                let e = p - t as u8 as f64;
                gb += e;
                for j in 0..d {
                    gw[j] += e * r[j];
                }
            }
            b -= lr * gb / n;
            for j in 0..d {
                w[j] -= lr * (gw[j] / n + l2 * w[j]);
            }
        }
        Logistic { mean, std, w, b }
    }

    pub fn predict(&self, x: &[f64]) -> f64 {
        let s: f64 = self.b
            + x.iter()
                .enumerate()
                .map(|(j, v)| (v - self.mean[j]) / self.std[j] * self.w[j])
                .sum::<f64>();
        1.0 / (1.0 + (-s).exp())
    }
}

/// One row of the purchase-intent table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IntentRow {
    pub name: String,
    pub theirs: Interval,
    pub ours: Interval,
}

/// The purchase-intent protocol on one set of sessions.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Intent {
    pub title: String,
    pub sessions: usize,
    /// Cuts with a known label (theirs, ours).
    pub cuts: (usize, usize),
    pub rows: Vec<IntentRow>,
}

/// Scores predictors (name → a yes/no per cut) on `cuts` with both labels, bootstrapping
/// sessions.
pub fn intent(
    title: &str,
    cuts: &[Cut],
    predictors: &[(&str, Vec<bool>)],
    rounds: usize,
    seed: u64,
) -> Intent {
    let score = |preds: &[bool], idx: &[usize], theirs: bool| -> f64 {
        let (mut p, mut l, mut a) = (Vec::new(), Vec::new(), Vec::new());
        for &i in idx {
            let y = if theirs { cuts[i].theirs } else { cuts[i].ours };
            if let Some(y) = y {
                p.push(preds[i]);
                l.push(y);
                a.push(cuts[i].after);
            }
        }
        weighted_score(&p, &l, &a)
    };
    let groups = Sessions::of(&cuts.iter().map(|c| c.session).collect::<Vec<_>>());
    let resamples = groups.resamples(rounds, seed);
    let all: Vec<usize> = (0..cuts.len()).collect();
    let iv = |preds: &[bool], theirs: bool| {
        let v = resamples.iter().map(|r| score(preds, r, theirs)).collect();
        nearest_rank_interval(score(preds, &all, theirs), v)
    };
    Intent {
        title: title.into(),
        sessions: groups.len(),
        cuts: (
            cuts.iter().filter(|c| c.theirs.is_some()).count(),
            cuts.iter().filter(|c| c.ours.is_some()).count(),
        ),
        rows: predictors
            .iter()
            .map(|(n, p)| IntentRow {
                name: n.to_string(),
                theirs: iv(p, true),
                ours: iv(p, false),
            })
            .collect(),
    }
}

/// "Has a cart and no remove yet": the challenge's simple rule.
pub fn cart_no_remove(prefix: &[Event]) -> bool {
    prefix.iter().any(|e| e.kind == EventKind::Cart)
        && !prefix.iter().any(|e| e.kind == EventKind::RemoveFromCart)
}

/// The conversion head's figures on windows with a known label.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ConversionFigures {
    pub windows: usize,
    pub positives: usize,
    pub roc_auc: Interval,
    pub pr_auc: Interval,
    pub ece: Interval,
    pub brier: Interval,
    /// Reliability bins: (mean predicted, observed share, count).
    pub reliability: Vec<(f64, f64, u64)>,
}

/// ECE of a binary probability over `bins` equal-width bins.
pub fn binary_ece(p: &[f32], y: &[bool], bins: usize) -> (f64, Vec<(f64, f64, u64)>) {
    let mut acc = vec![(0.0, 0.0, 0u64); bins];
    for (&pi, &yi) in p.iter().zip(y) {
        let b = ((pi as f64 * bins as f64) as usize).min(bins - 1);
        acc[b].0 += pi as f64;
        acc[b].1 += yi as u8 as f64;
        acc[b].2 += 1;
    }
    let n = p.len().max(1) as f64;
    let ece = acc
        .iter()
        .filter(|b| b.2 > 0)
        .map(|b| (b.2 as f64 / n) * (b.0 / b.2 as f64 - b.1 / b.2 as f64).abs())
        .sum();
    let rel = acc
        .iter()
        .filter(|b| b.2 > 0)
        .map(|b| (b.0 / b.2 as f64, b.1 / b.2 as f64, b.2))
        .collect();
    (ece, rel)
}

/// The conversion head's figures (`conv[i]` for window `i`), on windows whose label is known.
pub fn conversion_figures(
    conv: &[f32],
    labels: &[Option<bool>],
    session_of: &[u32],
    rounds: usize,
    seed: u64,
) -> ConversionFigures {
    let known: Vec<usize> = (0..labels.len()).filter(|&i| labels[i].is_some()).collect();
    let at = |idx: &[usize]| -> (Vec<f32>, Vec<bool>) {
        (
            idx.iter().map(|&i| conv[known[i]]).collect(),
            idx.iter()
                .map(|&i| labels[known[i]] == Some(true))
                .collect(),
        )
    };
    let figures = |p: &[f32], y: &[bool]| -> [f64; 4] {
        let scored: Vec<(f32, bool)> = p.iter().copied().zip(y.iter().copied()).collect();
        let brier = p
            .iter()
            .zip(y)
            .map(|(&a, &b)| (a as f64 - b as u8 as f64).powi(2))
            .sum::<f64>()
            / p.len().max(1) as f64;
        [
            roc_auc(&scored),
            average_precision(&scored),
            binary_ece(p, y, 10).0,
            brier,
        ]
    };
    let all: Vec<usize> = (0..known.len()).collect();
    let (p, y) = at(&all);
    let point = figures(&p, &y);
    let groups = Sessions::of(&known.iter().map(|&i| session_of[i]).collect::<Vec<_>>());
    let samples: Vec<[f64; 4]> = groups
        .resamples(rounds, seed)
        .iter()
        .map(|r| {
            let (p, y) = at(r);
            figures(&p, &y)
        })
        .collect();
    let iv = |k: usize| {
        let v = samples
            .iter()
            .map(|s| s[k])
            .filter(|x| x.is_finite())
            .collect();
        nearest_rank_interval(point[k], v)
    };
    ConversionFigures {
        windows: known.len(),
        positives: y.iter().filter(|&&v| v).count(),
        roc_auc: iv(0),
        pr_auc: iv(1),
        ece: iv(2),
        brier: iv(3),
        reliability: binary_ece(&p, &y, 10).1,
    }
}

/// The threshold per stage minimising the balanced error rate of "will not buy in this
/// visit" (equivalently maximising Youden's J): a cost ratio weighing a missed abandoner and a
/// wrongly flagged buyer by the inverse of their frequencies in that stage, so a stage where
/// almost nobody buys is not flagged wholesale. `fallback` where a stage lacks either outcome.
pub fn choose_stage_thresholds(
    conv: &[f32],
    labels: &[Option<bool>],
    stages: &[Stage],
    fallback: StageThresholds,
) -> StageThresholds {
    let pick = |stage: Stage, fb: f32| -> f32 {
        let pairs: Vec<(f32, bool)> = (0..conv.len())
            .filter(|&i| stages[i] == stage)
            .filter_map(|i| labels[i].map(|y| (conv[i], y)))
            .collect();
        let buyers = pairs.iter().filter(|p| p.1).count() as f64;
        let leavers = pairs.len() as f64 - buyers;
        if buyers == 0.0 || leavers == 0.0 {
            return fb;
        }
        let mut best = (f64::NEG_INFINITY, fb);
        for i in 1..200 {
            let t = i as f32 / 200.0;
            let tpr = pairs.iter().filter(|p| !p.1 && p.0 < t).count() as f64 / leavers;
            let fpr = pairs.iter().filter(|p| p.1 && p.0 < t).count() as f64 / buyers;
            if tpr - fpr > best.0 {
                best = (tpr - fpr, t);
            }
        }
        best.1
    };
    StageThresholds {
        browsing: pick(Stage::Browsing, fallback.browsing),
        cart: pick(Stage::Cart, fallback.cart),
        cart_emptied: pick(Stage::CartEmptied, fallback.cart_emptied),
    }
}

/// How a flag behaves in one stage: share of windows flagged, precision (flagged windows that
/// did not buy) and recall (non-buying windows flagged).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct FlagStats {
    pub windows: usize,
    pub firing_rate: f64,
    pub precision: f64,
    pub recall: f64,
}

/// Flag statistics per stage for `flag[i]` on windows with known labels.
pub fn flag_stats(
    flag: &[bool],
    labels: &[Option<bool>],
    stages: &[Stage],
) -> Vec<(Stage, FlagStats)> {
    Stage::ALL
        .iter()
        .map(|&st| {
            let idx: Vec<usize> = (0..flag.len())
                .filter(|&i| stages[i] == st && labels[i].is_some())
                .collect();
            let flagged = idx.iter().filter(|&&i| flag[i]).count() as f64;
            let leavers = idx.iter().filter(|&&i| labels[i] == Some(false)).count() as f64;
            let hit = idx
                .iter()
                .filter(|&&i| flag[i] && labels[i] == Some(false))
                .count() as f64;
            (
                st,
                FlagStats {
                    windows: idx.len(),
                    firing_rate: flagged / idx.len().max(1) as f64,
                    precision: if flagged > 0.0 { hit / flagged } else { 0.0 },
                    recall: if leavers > 0.0 { hit / leavers } else { 0.0 },
                },
            )
        })
        .collect()
}

impl Intent {
    pub fn markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{} — {} sessions with an add-to-cart, {} cuts with a known label (theirs), {} (ours). \
             Weighted score, max 4.5 [95 % bootstrap interval over sessions].\n\n\
             | predictor | their label (carted product bought) | our label (any purchase follows) |\n|---|---|---|",
            self.title, self.sessions, self.cuts.0, self.cuts.1
        );
        for r in &self.rows {
            let _ = writeln!(s, "| {} | {} | {} |", r.name, r.theirs, r.ours);
        }
        s
    }
}

/// `value` with the 2.5 % and 97.5 % nearest-rank quantiles of its bootstrap samples (NaN
/// when there are none).
fn nearest_rank_interval(value: f64, mut v: Vec<f64>) -> Interval {
    v.sort_by(f64::total_cmp);
    let q = |x: f64| {
        v.get(((v.len().max(1) - 1) as f64 * x).round() as usize)
            .copied()
            .unwrap_or(f64::NAN)
    };
    Interval {
        value,
        low: q(0.025),
        high: q(0.975),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_weighted_score_follows_the_challenge_code() {
        // All right at every offset: 1.0 + 0.9 + … + 0.5 = 4.5.
        let after: Vec<u8> = CUTS.iter().map(|c| c.0 as u8).collect();
        let y = vec![true; 6];
        assert!((weighted_score(&y, &y, &after) - 4.5).abs() < 1e-12);
        // Offsets absent contribute nothing; half right at offset 0 gives 0.5.
        assert!((weighted_score(&[true, false], &[true, true], &[0, 0]) - 0.5).abs() < 1e-12);
        let x: Vec<Vec<f64>> = (0..200).map(|i| vec![(i % 10) as f64]).collect();
        let yy: Vec<bool> = (0..200).map(|i| i % 10 >= 5).collect();
        let m = Logistic::fit(&x, &yy);
        assert!(m.predict(&[9.0]) > 0.8 && m.predict(&[0.0]) < 0.2);
        let (ece, bins) = binary_ece(&[0.1, 0.9], &[false, true], 10);
        assert!((ece - 0.1).abs() < 1e-6 && bins.len() == 2);
        let t = choose_stage_thresholds(
            &[0.05, 0.1, 0.8, 0.9],
            &[Some(false), Some(false), Some(true), Some(true)],
            &[Stage::Cart; 4],
            StageThresholds::uniform(0.5),
        );
        assert!(t.cart > 0.1 && t.cart <= 0.8, "{t:?}");
        assert_eq!(t.browsing, 0.5, "no windows: the fallback");
    }
}
