//! The training loop: class-weighted cross-entropy with AdamW,
//! time-based validation with early stopping on macro-F1, prior correction of the class
//! weights and temperature scaling so the shipped probabilities are calibrated.

use std::time::Instant;

use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamWConfig, GradientsParams};
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
    let mut out = Vec::with_capacity(batch.n * 4);
    let chunk = 2048;
    let mut i = 0;
    while i < batch.n {
        let n = chunk.min(batch.n - i);
        let sub = batch.slice(i, i + n);
        out.extend(to_vec_f32(model.forward_batch(&sub, device)));
        i += n;
    }
    out
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
pub fn train_with(
    ds: &Dataset,
    train: &[WindowRef],
    valid: &[WindowRef],
    cfg: &TrainConfig,
    on_epoch: &mut dyn FnMut(&EpochStats),
) -> Trained {
    let started = Instant::now();
    let device = Device::default();
    device.seed(cfg.seed);
    let ad = device.clone().autodiff();
    let mut model = cfg.model.init(&ad);
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
    let class_weights = raw.map(|w| (w / mean) as f32);
    // Weighted CE learns p_w(c|x) ∝ w_c p(c|x); subtracting ln w_c undoes that.
    let logit_shift = class_weights.map(|w| -w.ln());
    let loss_fn = CrossEntropyLossConfig::new()
        .with_weights(Some(class_weights.to_vec()))
        .init(&ad);

    let ctx = cfg.context_index();
    let valid = subsample(valid, cfg.valid_windows, cfg.seed ^ 0x7a11d);
    let (valid_batch, valid_labels) = encode_windows(ds, &valid, ctx.as_ref());

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
            let logits = model.forward_batch(&batch, &ad);
            let targets = Tensor::<1, Int>::from_data(
                TensorData::new(
                    labels.iter().map(|&y| y as i64).collect::<Vec<_>>(),
                    [labels.len()],
                ),
                &ad,
            );
            let loss = loss_fn.forward(logits, targets);
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
        let probs = calibrated(&logits(&inner, &valid_batch, &device), &logit_shift, 1.0);
        let ev: Evaluation = evaluate(&probs, &valid_labels);
        let stats = EpochStats {
            epoch,
            train_loss: loss_sum / seen.max(1) as f64,
            valid_loss: ev.log_loss,
            valid_accuracy: ev.accuracy,
            valid_macro_f1: ev.macro_f1,
            seconds: secs,
            windows_per_second: seen as f64 / secs.max(1e-9),
        };
        if let Some(b) = bar {
            b.finish_with_message(format!(
                "loss {:.4}, valid loss {:.4}, valid macro-F1 {:.4}, {:.0} windows/s",
                stats.train_loss, stats.valid_loss, stats.valid_macro_f1, stats.windows_per_second
            ));
        }
        let improved = best.as_ref().is_none_or(|b| ev.macro_f1 > b.0);
        on_epoch(&stats);
        history.push(stats);
        if improved {
            best = Some((ev.macro_f1, epoch, inner));
        } else if epoch - best.as_ref().map_or(0, |b| b.1) >= cfg.patience {
            break;
        }
        lr *= cfg.lr_decay;
    }
    let (_, best_epoch, model) = best.expect("at least one epoch");
    let vlogits = logits(&model, &valid_batch, &device);
    let temperature = if valid_labels.is_empty() {
        1.0
    } else {
        fit_temperature(&vlogits, &valid_labels, &logit_shift)
    };
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
    }
}

impl Trained {
    /// Calibrated probabilities `[n,4]` from burn's forward pass (the export reference).
    pub fn probabilities(&self, batch: &Batch) -> Vec<f32> {
        let device = Device::default();
        calibrated(
            &logits(&self.model, batch, &device),
            &self.logit_shift,
            self.temperature,
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
