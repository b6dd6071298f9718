//! The training loop: class-weighted cross-entropy with AdamW,
//! time-based validation with early stopping on macro-F1, prior correction of the class
//! weights and temperature scaling so the shipped probabilities are calibrated.

use std::time::Instant;

use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamWConfig, GradientsParams};
use burn::tensor::activation::softplus;
use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::Serialize;

use crate::core::context::{Calendar, CalendarIndex};
use crate::core::encode::Batch;
use crate::data::ingest::{Dataset, WindowRef};
use crate::data::metrics::{evaluate, EpochStats, Evaluation};
use crate::training::net::{to_vec_f32, ModelConfig, Net};

/// Hyper-parameters of one training run.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct TrainConfig {
    pub model: ModelConfig,
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    pub lr_decay: f64,
    pub weight_decay: f32,
    pub patience: usize,
    pub seed: u64,
    /// Windows drawn (without replacement) per epoch; `None` = all training windows.
    pub windows_per_epoch: Option<usize>,
    /// Validation windows evaluated per epoch; `None` = all.
    pub valid_windows: Option<usize>,
    pub progress: bool,
    /// The external-context calendar; required when `model.context` is on, unused otherwise.
    #[serde(default)]
    pub calendar: Option<Calendar>,
    /// What early stopping keeps: the epoch with the best validation macro-F1 (decisions) or
    /// the lowest validation log loss (probabilities).
    #[serde(default)]
    pub select: Select,
    /// Weight of the conversion head's loss against the next-event loss (with a conversion
    /// head).
    #[serde(default = "default_conversion_weight")]
    pub conversion_weight: f32,
    /// Inverse square-root class weights in the next-event loss (corrected afterwards so the
    /// probabilities stay calibrated); off, the plain cross-entropy.
    #[serde(default = "yes")]
    pub class_weights: bool,
}

fn default_conversion_weight() -> f32 {
    0.5
}

fn yes() -> bool {
    true
}

/// The early-stopping criterion on validation windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Select {
    #[default]
    MacroF1,
    LogLoss,
}

impl TrainConfig {
    /// The calendar the encoder uses for this model: `Some` only when `model.context` is on.
    pub fn context_index(&self) -> Option<CalendarIndex> {
        if self.model.context {
            Some(self.calendar.clone().unwrap_or_default().index())
        } else {
            None
        }
    }
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            model: ModelConfig::default(),
            epochs: 8,
            batch_size: 256,
            learning_rate: 3e-3,
            lr_decay: 0.8,
            weight_decay: 1e-4,
            patience: 2,
            seed: 42,
            windows_per_epoch: None,
            valid_windows: None,
            progress: true,
            calendar: None,
            select: Select::MacroF1,
            conversion_weight: default_conversion_weight(),
            class_weights: true,
        }
    }
}

/// A trained model plus the output calibration that export folds into the graph:
/// `probabilities = softmax((logits + logit_shift) / temperature)`.
#[derive(Debug)]
pub struct Trained {
    pub model: Net,
    pub class_weights: [f32; 4],
    pub logit_shift: [f32; 4],
    pub temperature: f32,
    pub history: Vec<EpochStats>,
    pub best_epoch: usize,
    pub train_windows: usize,
    pub seconds: f64,
    /// The calendar of a model trained with context (exported into its spec).
    pub calendar: Option<Calendar>,
    /// Temperature of the conversion head's logit, fitted on validation windows whose label
    /// is known (1 without the head).
    pub conversion_temperature: f32,
    /// Added to the conversion logit after the temperature (Platt scaling's intercept: the
    /// head can be shifted as well as sharpened); 0 unless recalibrated.
    pub conversion_shift: f32,
}

/// Which windows know their conversion label: `ends_cut[s]` is true when session `s` may have
/// gone on past the data's edge (see [`Dataset::censoring`]); its windows without a later
/// purchase are left out of the conversion loss, never taught "no purchase".
pub type EndsCut<'a> = &'a [bool];

/// Conversion labels of windows: 1, 0, or unknown (`None`).
pub fn conversion_labels(ds: &Dataset, refs: &[WindowRef], ends_cut: EndsCut) -> Vec<Option<bool>> {
    refs.iter()
        .map(|&w| ds.converts(w, ends_cut[w.session as usize]))
        .collect()
}

/// Encodes windows into one batch plus their labels (with context from `calendar`, if given).
pub fn encode_windows(
    ds: &Dataset,
    refs: &[WindowRef],
    calendar: Option<&CalendarIndex>,
) -> (Batch, Vec<usize>) {
    let mut b = Batch::with_capacity(refs.len());
    let mut y = Vec::with_capacity(refs.len());
    for &r in refs {
        let (w, label) = ds.window(r);
        b.push_with(w, calendar);
        y.push(label.index());
    }
    (b, y)
}

/// Raw logits `[n,4]` of a (non-autodiff) model, computed in chunks.
pub fn logits(model: &Net, batch: &Batch, device: &Device) -> Vec<f32> {
    logits_heads(model, batch, device).0
}

/// Raw logits of both heads: `[n,4]`, and `[n]` conversion logits (empty without the head).
pub fn logits_heads(model: &Net, batch: &Batch, device: &Device) -> (Vec<f32>, Vec<f32>) {
    let mut out = Vec::with_capacity(batch.n * 4);
    let mut conv = Vec::new();
    let chunk = 2048;
    let mut i = 0;
    while i < batch.n {
        let n = chunk.min(batch.n - i);
        let sub = batch.slice(i, i + n);
        let (l, c) = model.forward_heads_batch(&sub, device);
        out.extend(to_vec_f32(l));
        if let Some(c) = c {
            conv.extend(to_vec_f32(c));
        }
        i += n;
    }
    (out, conv)
}

/// σ(logit / temperature).
pub fn sigmoid_t(logit: f32, temperature: f32) -> f32 {
    1.0 / (1.0 + (-logit / temperature).exp())
}

/// σ(logit / temperature + shift): the calibrated conversion probability.
pub fn platt(logit: f32, temperature: f32, shift: f32) -> f32 {
    1.0 / (1.0 + (-(logit / temperature + shift)).exp())
}

/// Platt scaling of the conversion logit on windows with a known label: `(temperature,
/// shift)` with P = σ(logit / temperature + shift), by Newton's method on the log loss
/// (a one-feature logistic regression). `(1, 0)` unless both outcomes occur.
pub fn fit_conversion_platt(logits: &[f32], labels: &[Option<bool>]) -> (f32, f32) {
    let known: Vec<(f64, f64)> = logits
        .iter()
        .zip(labels)
        .filter_map(|(&l, y)| y.map(|y| (l as f64, y as u8 as f64)))
        .collect();
    if !(known.iter().any(|k| k.1 > 0.5) && known.iter().any(|k| k.1 < 0.5)) {
        return (1.0, 0.0);
    }
    let (mut a, mut b) = (1.0f64, 0.0f64);
    for _ in 0..50 {
        let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (0.0, 0.0, 1e-9, 0.0, 1e-9);
        for &(x, y) in &known {
            let p = 1.0 / (1.0 + (-(a * x + b)).exp());
            let w = p * (1.0 - p);
            ga += (p - y) * x;
            gb += p - y;
            haa += w * x * x;
            hab += w * x;
            hbb += w;
        }
        let det = haa * hbb - hab * hab;
        if det.abs() < 1e-12 {
            break;
        }
        let (da, db) = ((hbb * ga - hab * gb) / det, (haa * gb - hab * ga) / det);
        a -= da;
        b -= db;
        if da.abs() + db.abs() < 1e-9 {
            break;
        }
    }
    if !(a.is_finite() && b.is_finite()) || a <= 1e-3 {
        return (1.0, 0.0);
    }
    ((1.0 / a) as f32, b as f32)
}

/// Temperature of the conversion logit minimising the log loss on windows with a known label
/// (grid 0.5..4.0, step 0.01); 1 unless both outcomes occur among them.
pub fn fit_conversion_temperature(logits: &[f32], labels: &[Option<bool>]) -> f32 {
    let known: Vec<(f32, bool)> = logits
        .iter()
        .zip(labels)
        .filter_map(|(&l, y)| y.map(|y| (l, y)))
        .collect();
    if !(known.iter().any(|k| k.1) && known.iter().any(|k| !k.1)) {
        return 1.0;
    }
    let mut best = (f64::INFINITY, 1.0f32);
    for i in 50..=400 {
        let t = i as f32 / 100.0;
        let ll: f64 = known
            .iter()
            .map(|&(l, y)| {
                let p = sigmoid_t(l, t).clamp(1e-7, 1.0 - 1e-7) as f64;
                -(if y { p.ln() } else { (1.0 - p).ln() })
            })
            .sum();
        if ll < best.0 {
            best = (ll, t);
        }
    }
    best.1
}

/// Applies shift and temperature, then softmax, to flat `[n,4]` logits.
pub fn calibrated(logits: &[f32], shift: &[f32; 4], temperature: f32) -> Vec<f32> {
    let mut out = Vec::with_capacity(logits.len());
    for l in logits.chunks_exact(4) {
        let z: [f32; 4] = std::array::from_fn(|k| (l[k] + shift[k]) / temperature);
        let m = z.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
        let e = z.map(|v| (v - m).exp());
        let s: f32 = e.iter().sum();
        out.extend(e.map(|v| v / s));
    }
    out
}

/// Temperature minimising the validation log loss (grid 0.5..4.0, step 0.01).
pub fn fit_temperature(logits: &[f32], labels: &[usize], shift: &[f32; 4]) -> f32 {
    let mut best = (f64::INFINITY, 1.0f32);
    for i in 50..=400 {
        let t = i as f32 / 100.0;
        let ll = evaluate(&calibrated(logits, shift, t), labels).log_loss;
        if ll < best.0 {
            best = (ll, t);
        }
    }
    best.1
}

fn subsample(refs: &[WindowRef], n: Option<usize>, seed: u64) -> Vec<WindowRef> {
    let mut v = refs.to_vec();
    if let Some(n) = n.filter(|&n| n < v.len()) {
        v.shuffle(&mut StdRng::seed_from_u64(seed));
        v.truncate(n);
    }
    v
}

/// Trains a network of `cfg.model.arch` on `train` windows, validating on `valid` windows after each epoch.
pub fn train(ds: &Dataset, train: &[WindowRef], valid: &[WindowRef], cfg: &TrainConfig) -> Trained {
    train_with(ds, train, valid, cfg, &mut |_| {})
}

/// [`train`], calling `on_epoch` after each epoch's validation (live experiment tracking).
/// Every session's conversion label is taken as known (generated or complete data).
pub fn train_with(
    ds: &Dataset,
    train: &[WindowRef],
    valid: &[WindowRef],
    cfg: &TrainConfig,
    on_epoch: &mut dyn FnMut(&EpochStats),
) -> Trained {
    let ends_cut = vec![false; ds.sessions.len()];
    train_from(ds, train, valid, &ends_cut, cfg, None, on_epoch)
}

/// The training loop: from `init` (a pretrained network, e.g. on generated data, to
/// fine-tune) or from scratch; `ends_cut` says which sessions' conversion labels are unknown.
pub fn train_from(
    ds: &Dataset,
    train: &[WindowRef],
    valid: &[WindowRef],
    ends_cut: EndsCut,
    cfg: &TrainConfig,
    init: Option<Net>,
    on_epoch: &mut dyn FnMut(&EpochStats),
) -> Trained {
    let started = Instant::now();
    let device = Device::default();
    device.seed(cfg.seed);
    let ad = device.clone().autodiff();
    let mut model = match init {
        Some(net) => net.fork(&ad).train(),
        None => cfg.model.init(&ad),
    };
    let mut optim = AdamWConfig::new()
        .with_weight_decay(cfg.weight_decay)
        .init();

    let mut freq = [0.0f64; 4];
    for &r in train {
        freq[ds.window(r).1.index()] += 1.0;
    }
    let total: f64 = freq.iter().sum::<f64>().max(1.0);
    // Inverse square-root frequency weights, mean 1; classes absent from training get 1.
    let raw: [f64; 4] = freq.map(|f| if f > 0.0 { (total / f).sqrt() } else { 1.0 });
    let mean = raw.iter().sum::<f64>() / 4.0;
    let class_weights = if cfg.class_weights {
        raw.map(|w| (w / mean) as f32)
    } else {
        [1.0; 4]
    };
    // Weighted CE learns p_w(c|x) ∝ w_c p(c|x); subtracting ln w_c undoes that.
    let logit_shift = class_weights.map(|w| -w.ln());
    let loss_fn = CrossEntropyLossConfig::new()
        .with_weights(Some(class_weights.to_vec()))
        .init(&ad);

    let ctx = cfg.context_index();
    let valid = subsample(valid, cfg.valid_windows, cfg.seed ^ 0x7a11d);
    let (valid_batch, valid_labels) = encode_windows(ds, &valid, ctx.as_ref());
    let valid_conv = conversion_labels(ds, &valid, ends_cut);
    let with_conversion = model.convert.is_some();

    let mut history = Vec::new();
    let mut best: Option<(f64, usize, Net)> = None;
    let mut lr = cfg.learning_rate;
    for epoch in 1..=cfg.epochs {
        let t0 = Instant::now();
        let order = subsample(
            train,
            cfg.windows_per_epoch.or(Some(train.len())),
            cfg.seed.wrapping_add(epoch as u64),
        );
        let n_batches = order.len().div_ceil(cfg.batch_size);
        let bar = cfg.progress.then(|| {
            let b = indicatif::ProgressBar::new(n_batches as u64);
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "epoch {prefix} [{bar:30}] {pos}/{len} batches, {msg} ETA {eta}",
                )
                .expect("template")
                .progress_chars("=> "),
            );
            b.set_prefix(format!("{epoch}/{}", cfg.epochs));
            b
        });
        let (mut loss_sum, mut seen) = (0.0f64, 0usize);
        for chunk in order.chunks(cfg.batch_size) {
            let (batch, labels) = encode_windows(ds, chunk, ctx.as_ref());
            let (logits, conv) = model.forward_heads_batch(&batch, &ad);
            let targets = Tensor::<1, Int>::from_data(
                TensorData::new(
                    labels.iter().map(|&y| y as i64).collect::<Vec<_>>(),
                    [labels.len()],
                ),
                &ad,
            );
            let mut loss = loss_fn.forward(logits, targets);
            if let Some(c) = conv {
                // Binary cross-entropy on the windows whose label is known, as
                // softplus(x) − y·x; unknown labels get weight 0.
                let known = conversion_labels(ds, chunk, ends_cut);
                let n_known = known.iter().filter(|y| y.is_some()).count();
                if n_known > 0 {
                    let y: Vec<f32> = known
                        .iter()
                        .map(|y| (*y == Some(true)) as u8 as f32)
                        .collect();
                    let m: Vec<f32> = known.iter().map(|y| y.is_some() as u8 as f32).collect();
                    let b = chunk.len();
                    let y = Tensor::<2>::from_data(TensorData::new(y, [b, 1]), &ad);
                    let m = Tensor::<2>::from_data(TensorData::new(m, [b, 1]), &ad);
                    let bce = (softplus(c.clone(), 1.0) - y * c) * m;
                    loss = loss + bce.sum().mul_scalar(cfg.conversion_weight / n_known as f32);
                }
            }
            let l: f32 = loss.clone().into_scalar();
            loss_sum += l as f64 * chunk.len() as f64;
            seen += chunk.len();
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(lr, model, grads);
            if let Some(b) = &bar {
                b.inc(1);
                b.set_message(format!("loss {:.4}", loss_sum / seen as f64));
            }
        }
        let secs = t0.elapsed().as_secs_f64();
        let inner = model.valid();
        let (vl, vc) = logits_heads(&inner, &valid_batch, &device);
        let probs = calibrated(&vl, &logit_shift, 1.0);
        let ev: Evaluation = evaluate(&probs, &valid_labels);
        let conversion_loss = with_conversion
            .then(|| {
                let known: Vec<(f32, bool)> = vc
                    .iter()
                    .zip(&valid_conv)
                    .filter_map(|(&l, y)| y.map(|y| (l, y)))
                    .collect();
                // Only a validation set with both outcomes says anything (the real sample's
                // December has no session that provably ended without a purchase).
                let both = known.iter().any(|k| k.1) && known.iter().any(|k| !k.1);
                both.then(|| {
                    known
                        .iter()
                        .map(|&(l, y)| {
                            let p = sigmoid_t(l, 1.0).clamp(1e-7, 1.0 - 1e-7) as f64;
                            -(if y { p.ln() } else { (1.0 - p).ln() })
                        })
                        .sum::<f64>()
                        / known.len() as f64
                })
            })
            .flatten();
        let stats = EpochStats {
            epoch,
            train_loss: loss_sum / seen.max(1) as f64,
            valid_loss: ev.log_loss,
            valid_accuracy: ev.accuracy,
            valid_macro_f1: ev.macro_f1,
            seconds: secs,
            windows_per_second: seen as f64 / secs.max(1e-9),
            valid_conversion_loss: conversion_loss,
        };
        if let Some(b) = bar {
            b.finish_with_message(format!(
                "loss {:.4}, valid loss {:.4}, valid macro-F1 {:.4}, {:.0} windows/s",
                stats.train_loss, stats.valid_loss, stats.valid_macro_f1, stats.windows_per_second
            ));
        }
        // Higher is better: macro-F1, or minus the log loss (with the conversion head's own
        // log loss added when it trains, so both heads count).
        let score = match cfg.select {
            Select::MacroF1 => ev.macro_f1,
            Select::LogLoss => -(ev.log_loss + conversion_loss.unwrap_or(0.0)),
        };
        let improved = best.as_ref().is_none_or(|b| score > b.0);
        on_epoch(&stats);
        history.push(stats);
        if improved {
            best = Some((score, epoch, inner));
        } else if epoch - best.as_ref().map_or(0, |b| b.1) >= cfg.patience {
            break;
        }
        lr *= cfg.lr_decay;
    }
    let (_, best_epoch, model) = best.expect("at least one epoch");
    let (vlogits, vconv) = logits_heads(&model, &valid_batch, &device);
    let temperature = if valid_labels.is_empty() {
        1.0
    } else {
        fit_temperature(&vlogits, &valid_labels, &logit_shift)
    };
    let conversion_temperature = fit_conversion_temperature(&vconv, &valid_conv);
    Trained {
        model,
        class_weights,
        logit_shift,
        temperature,
        history,
        best_epoch,
        train_windows: train.len(),
        seconds: started.elapsed().as_secs_f64(),
        calendar: cfg
            .model
            .context
            .then(|| cfg.calendar.clone().unwrap_or_default()),
        conversion_temperature,
        conversion_shift: 0.0,
    }
}

impl Trained {
    /// Calibrated probabilities `[n,4]` from burn's forward pass (the export reference).
    pub fn probabilities(&self, batch: &Batch) -> Vec<f32> {
        self.heads(batch).0
    }

    /// Calibrated probabilities `[n,4]` and conversion probabilities `[n]` (empty without the
    /// head) from burn's forward pass.
    pub fn heads(&self, batch: &Batch) -> (Vec<f32>, Vec<f32>) {
        let device = Device::default();
        let (l, c) = logits_heads(&self.model, batch, &device);
        (
            calibrated(&l, &self.logit_shift, self.temperature),
            c.iter()
                .map(|&x| platt(x, self.conversion_temperature, self.conversion_shift))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calibration_shift_and_temperature() {
        let l = [1.0, 0.0, 0.0, 0.0];
        let p = calibrated(&l, &[0.0; 4], 1.0);
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        let hot = calibrated(&l, &[0.0; 4], 0.5);
        assert!(hot[0] > p[0]);
        let shifted = calibrated(&l, &[-1.0, 0.0, 0.0, 0.0], 1.0);
        assert!((shifted[0] - 0.25).abs() < 1e-6);
    }
}
