//! Bootstrap intervals that resample sessions, not windows: windows of one session are not
//! independent (a shopper in a cart run stays in it), so resampling them one by one would make
//! intervals too narrow. A paired bootstrap of two predictors on the same resamples gives the
//! interval of their difference; "beats" is said only where it excludes 0.

use serde::{Deserialize, Serialize};

use crate::data::metrics::{evaluate, Evaluation};

/// A point estimate with its 95 % percentile interval.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Interval {
    pub value: f64,
    pub low: f64,
    pub high: f64,
}

impl Interval {
    /// Whether the interval lies wholly above 0 (for a difference: a win), below 0, or neither.
    pub fn sign(&self) -> i8 {
        if self.low > 0.0 {
            1
        } else if self.high < 0.0 {
            -1
        } else {
            0
        }
    }
}

impl std::fmt::Display for Interval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.3} [{:.3}, {:.3}]", self.value, self.low, self.high)
    }
}

/// The figures reported with intervals.
pub const METRICS: [&str; 6] = [
    "accuracy",
    "macro_f1",
    "log_loss",
    "ece",
    "purchase_roc_auc",
    "purchase_pr_auc",
];

/// One metric of an evaluation by name (see [`METRICS`]).
pub fn metric(e: &Evaluation, name: &str) -> f64 {
    match name {
        "accuracy" => e.accuracy,
        "macro_f1" => e.macro_f1,
        "log_loss" => e.log_loss,
        "ece" => e.ece,
        "purchase_roc_auc" => e.purchase_roc_auc,
        "purchase_pr_auc" => e.purchase_pr_auc,
        other => panic!("unknown metric {other}"),
    }
}

/// Windows grouped by session: `groups[s]` holds the window indices of session `s`.
#[derive(Debug, Clone)]
pub struct Sessions {
    groups: Vec<Vec<usize>>,
}

impl Sessions {
    /// Groups windows by their session key (windows of one session need not be adjacent).
    pub fn of(session_of_window: &[u32]) -> Self {
        let mut map: std::collections::BTreeMap<u32, Vec<usize>> = Default::default();
        for (i, &s) in session_of_window.iter().enumerate() {
            map.entry(s).or_default().push(i);
        }
        Sessions {
            groups: map.into_values().collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.groups.len()
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// `rounds` resamples of the sessions (with replacement), each as a list of window indices;
    /// seeded, so figures are reproducible.
    pub fn resamples(&self, rounds: usize, seed: u64) -> Vec<Vec<usize>> {
        let mut rng = SplitMix(seed);
        let n = self.groups.len();
        (0..rounds)
            .map(|_| {
                let mut idx = Vec::new();
                for _ in 0..n {
                    idx.extend_from_slice(&self.groups[(rng.next() % n as u64) as usize]);
                }
                idx
            })
            .collect()
    }
}

/// A small, fast, seeded generator (SplitMix64): enough for resampling indices.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

fn percentile(v: &mut [f64], q: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    let pos = q * (v.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
}

fn subset(probs: &[f32], labels: &[usize], idx: &[usize]) -> (Vec<f32>, Vec<usize>) {
    let mut p = Vec::with_capacity(idx.len() * 4);
    let mut y = Vec::with_capacity(idx.len());
    for &i in idx {
        p.extend_from_slice(&probs[i * 4..i * 4 + 4]);
        y.push(labels[i]);
    }
    (p, y)
}

/// Every metric of [`METRICS`] of `probs` (`[n,4]`) with its interval over `resamples`.
pub fn intervals(
    probs: &[f32],
    labels: &[usize],
    resamples: &[Vec<usize>],
) -> Vec<(&'static str, Interval)> {
    let full = evaluate(probs, labels);
    let evals: Vec<Evaluation> = resamples
        .iter()
        .map(|idx| {
            let (p, y) = subset(probs, labels, idx);
            evaluate(&p, &y)
        })
        .collect();
    METRICS
        .iter()
        .map(|&m| {
            let mut v: Vec<f64> = evals
                .iter()
                .map(|e| metric(e, m))
                .filter(|x| x.is_finite())
                .collect();
            (
                m,
                Interval {
                    value: metric(&full, m),
                    low: percentile(&mut v, 0.025),
                    high: percentile(&mut v, 0.975),
                },
            )
        })
        .collect()
}

/// The paired difference `a − b` of one metric, both predictors scored on the same resamples.
pub fn paired(
    a: &[f32],
    b: &[f32],
    labels: &[usize],
    resamples: &[Vec<usize>],
    name: &str,
) -> Interval {
    let diff = |idx: Option<&[usize]>| {
        let (pa, y) = match idx {
            Some(i) => subset(a, labels, i),
            None => (a.to_vec(), labels.to_vec()),
        };
        let pb = match idx {
            Some(i) => subset(b, labels, i).0,
            None => b.to_vec(),
        };
        metric(&evaluate(&pa, &y), name) - metric(&evaluate(&pb, &y), name)
    };
    let mut v: Vec<f64> = resamples
        .iter()
        .map(|i| diff(Some(i)))
        .filter(|x| x.is_finite())
        .collect();
    Interval {
        value: diff(None),
        low: percentile(&mut v, 0.025),
        high: percentile(&mut v, 0.975),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resamples_keep_sessions_whole_and_intervals_cover_the_estimate() {
        // 40 sessions of 3 windows; labels follow the session, so windows are correlated.
        let session: Vec<u32> = (0..120).map(|i| i / 3).collect();
        let labels: Vec<usize> = session.iter().map(|s| (*s as usize) % 2).collect();
        let s = Sessions::of(&session);
        assert_eq!(s.len(), 40);
        let r = s.resamples(200, 7);
        assert!(r
            .iter()
            .all(|idx| idx.len() == 120 && idx.chunks(3).all(|c| c[0] / 3 == c[2] / 3)));
        // A predictor right on 3/4 of the sessions.
        let good: Vec<f32> = session
            .iter()
            .zip(&labels)
            .flat_map(|(s, &y)| {
                let right = s % 4 != 0;
                let k = if right { y } else { 1 - y };
                let mut p = [0.0f32; 4];
                p[k] = 0.9;
                p[1 - k] = 0.1;
                p
            })
            .collect();
        let flat = vec![0.25f32; 480];
        let iv = intervals(&good, &labels, &r);
        let acc = iv.iter().find(|(m, _)| *m == "accuracy").unwrap().1;
        assert!(
            (acc.value - 0.75).abs() < 1e-9 && acc.low < 0.75 && acc.high > 0.75,
            "{acc}"
        );
        assert!(
            acc.high - acc.low > 0.1,
            "session resampling is wide here: {acc}"
        );
        let d = paired(&good, &flat, &labels, &r, "log_loss");
        assert_eq!(d.sign(), -1, "clearly lower log loss: {d}");
        let same = paired(&good, &good, &labels, &r, "accuracy");
        assert_eq!(
            (same.value, same.low, same.high, same.sign()),
            (0.0, 0.0, 0.0, 0)
        );
        assert_eq!(s.resamples(3, 1), s.resamples(3, 1), "seeded");
    }
}
