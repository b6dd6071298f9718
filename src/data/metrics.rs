//! Evaluation metrics: confusion matrix, accuracy, per-class and
//! macro F1, log loss, expected calibration error, purchase ROC-AUC and PR-AUC.

use serde::Serialize;

/// 4×4 confusion matrix, rows = true class, columns = predicted class.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct Confusion {
    pub m: [[u64; 4]; 4],
}

impl Confusion {
    pub fn add(&mut self, truth: usize, pred: usize) {
        self.m[truth][pred] += 1;
    }
    pub fn total(&self) -> u64 {
        self.m.iter().flatten().sum()
    }
    pub fn accuracy(&self) -> f64 {
        let t = self.total();
        if t == 0 {
            0.0
        } else {
            (0..4).map(|i| self.m[i][i]).sum::<u64>() as f64 / t as f64
        }
    }
    /// (precision, recall, f1) of one class; 0 where undefined.
    pub fn prf(&self, c: usize) -> (f64, f64, f64) {
        let tp = self.m[c][c] as f64;
        let pred: f64 = (0..4).map(|i| self.m[i][c]).sum::<u64>() as f64;
        let truth: f64 = self.m[c].iter().sum::<u64>() as f64;
        let p = if pred > 0.0 { tp / pred } else { 0.0 };
        let r = if truth > 0.0 { tp / truth } else { 0.0 };
        let f = if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        };
        (p, r, f)
    }
    /// Mean F1 over the classes present in the truth.
    pub fn macro_f1(&self) -> f64 {
        let present: Vec<usize> = (0..4)
            .filter(|&c| self.m[c].iter().sum::<u64>() > 0)
            .collect();
        if present.is_empty() {
            0.0
        } else {
            present.iter().map(|&c| self.prf(c).2).sum::<f64>() / present.len() as f64
        }
    }
}

/// Everything measured for one model on one set of windows.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct Evaluation {
    pub n: u64,
    pub accuracy: f64,
    pub macro_f1: f64,
    pub per_class: [(f64, f64, f64); 4],
    pub confusion: Confusion,
    pub log_loss: f64,
    pub ece: f64,
    pub purchase_roc_auc: f64,
    pub purchase_pr_auc: f64,
}

/// Figures of one training epoch: what the learning curves plot and tracking logs per step.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct EpochStats {
    pub epoch: usize,
    pub train_loss: f64,
    pub valid_loss: f64,
    pub valid_accuracy: f64,
    pub valid_macro_f1: f64,
    pub seconds: f64,
    pub windows_per_second: f64,
    /// The conversion head's validation log loss on windows with a known label.
    #[serde(default)]
    pub valid_conversion_loss: Option<f64>,
}

/// Evaluates probabilities `probs` (`[n,4]` flat) against labels.
pub fn evaluate(probs: &[f32], labels: &[usize]) -> Evaluation {
    assert_eq!(
        probs.len(),
        labels.len() * 4,
        "probabilities and labels disagree in length"
    );
    let mut c = Confusion::default();
    let mut ll = 0.0;
    for (p, &y) in probs.chunks_exact(4).zip(labels) {
        c.add(y, argmax(p));
        ll -= (p[y] as f64).max(1e-7).ln();
    }
    let n = labels.len();
    let purchase: Vec<(f32, bool)> = probs
        .chunks_exact(4)
        .zip(labels)
        .map(|(p, &y)| (p[3], y == 3))
        .collect();
    Evaluation {
        n: n as u64,
        accuracy: c.accuracy(),
        macro_f1: c.macro_f1(),
        per_class: [c.prf(0), c.prf(1), c.prf(2), c.prf(3)],
        log_loss: if n > 0 { ll / n as f64 } else { 0.0 },
        ece: ece(probs, labels, 15),
        purchase_roc_auc: roc_auc(&purchase),
        purchase_pr_auc: average_precision(&purchase),
        confusion: c,
    }
}

pub fn argmax(p: &[f32]) -> usize {
    let mut best = 0;
    for i in 1..p.len() {
        if p[i] > p[best] {
            best = i;
        }
    }
    best
}

/// One bin of a reliability diagram: mean top-class confidence, accuracy, and count.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Bin {
    pub confidence: f64,
    pub accuracy: f64,
    pub n: u64,
}

/// Reliability bins of the top-class confidence over `bins` equal-width bins (empty bins
/// have `n = 0`).
pub fn reliability_bins(probs: &[f32], labels: &[usize], bins: usize) -> Vec<Bin> {
    let mut conf = vec![0.0f64; bins];
    let mut acc = vec![0.0f64; bins];
    let mut cnt = vec![0u64; bins];
    for (p, &y) in probs.chunks_exact(4).zip(labels) {
        let k = argmax(p);
        let b = ((p[k] as f64 * bins as f64) as usize).min(bins - 1);
        conf[b] += p[k] as f64;
        acc[b] += (k == y) as u8 as f64;
        cnt[b] += 1;
    }
    (0..bins)
        .map(|b| {
            let n = cnt[b].max(1) as f64;
            Bin {
                confidence: conf[b] / n,
                accuracy: acc[b] / n,
                n: cnt[b],
            }
        })
        .collect()
}

/// Expected calibration error of the top-class confidence over `bins` equal-width bins.
pub fn ece(probs: &[f32], labels: &[usize], bins: usize) -> f64 {
    let n = labels.len().max(1) as f64;
    reliability_bins(probs, labels, bins)
        .iter()
        .filter(|b| b.n > 0)
        .map(|b| b.n as f64 * (b.accuracy - b.confidence).abs() / n)
        .sum()
}

/// ROC-AUC of scores for a binary label (ties averaged); 0.5 when one class is absent.
pub fn roc_auc(scored: &[(f32, bool)]) -> f64 {
    let mut v: Vec<(f32, bool)> = scored.to_vec();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    let pos = v.iter().filter(|x| x.1).count() as f64;
    let neg = v.len() as f64 - pos;
    if pos == 0.0 || neg == 0.0 {
        return 0.5;
    }
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < v.len() {
        let mut j = i;
        while j < v.len() && v[j].0 == v[i].0 {
            j += 1;
        }
        let avg_rank = (i + j + 1) as f64 / 2.0;
        rank_sum += avg_rank * v[i..j].iter().filter(|x| x.1).count() as f64;
        i = j;
    }
    (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg)
}

/// Average precision (area under the precision-recall curve, step-wise).
pub fn average_precision(scored: &[(f32, bool)]) -> f64 {
    let mut v: Vec<(f32, bool)> = scored.to_vec();
    v.sort_by(|a, b| b.0.total_cmp(&a.0));
    let pos = v.iter().filter(|x| x.1).count() as f64;
    if pos == 0.0 {
        return 0.0;
    }
    let (mut tp, mut ap) = (0.0, 0.0);
    for (i, x) in v.iter().enumerate() {
        if x.1 {
            tp += 1.0;
            ap += tp / (i + 1) as f64;
        }
    }
    ap / pos
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confusion_figures() {
        let mut c = Confusion::default();
        for (t, p) in [(0, 0), (0, 0), (0, 1), (1, 1), (3, 0)] {
            c.add(t, p);
        }
        assert_eq!(c.accuracy(), 0.6);
        let (p, r, f) = c.prf(0);
        assert!(
            (p - 2.0 / 3.0).abs() < 1e-12
                && (r - 2.0 / 3.0).abs() < 1e-12
                && (f - 2.0 / 3.0).abs() < 1e-12
        );
        // classes 0, 1, 3 present: f1 = 2/3, 2/3, 0
        assert!((c.macro_f1() - 4.0 / 9.0).abs() < 1e-12);
    }

    #[test]
    fn auc_and_ap_known_values() {
        let perfect = [(0.9, true), (0.8, true), (0.3, false), (0.1, false)];
        assert_eq!(roc_auc(&perfect), 1.0);
        assert_eq!(average_precision(&perfect), 1.0);
        let mixed = [(0.9, true), (0.8, false), (0.3, true), (0.1, false)];
        assert_eq!(roc_auc(&mixed), 0.75);
        assert!((average_precision(&mixed) - (1.0 + 2.0 / 3.0) / 2.0).abs() < 1e-12);
        assert_eq!(roc_auc(&[(0.5, true), (0.5, false)]), 0.5);
    }

    #[test]
    fn ece_is_zero_when_calibrated_and_large_when_not() {
        let probs = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0];
        assert_eq!(ece(&probs, &[0, 0], 10), 0.0);
        assert!((ece(&probs, &[1, 1], 10) - 1.0).abs() < 1e-9);
        let e = evaluate(&probs, &[0, 1]);
        assert_eq!(e.accuracy, 0.5);
        assert!(e.log_loss > 7.0);
    }
}
