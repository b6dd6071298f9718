//! Learning on real shoppers: the generator fitted to the real sample's Oct–Nov sessions (its
//! number of hidden states chosen on December), and the recipe — pre-train on generated
//! data, fine-tune on the real Oct–Nov windows, calibrate and stop on December. The month
//! split and the reports are the data side's ([`crate::data::real`]).

use serde::{Deserialize, Serialize};

use crate::core::event::Event;
use crate::data::baseline::Baseline;
use crate::data::ingest::{Dataset, WindowRef};
use crate::data::metrics::EpochStats;
use crate::data::real::RealData;
use crate::data::split::DEC_2019;
use crate::training::fit::{encode_windows, train_from, TrainConfig, Trained};
use crate::training::fit_table::{self, SessionFigures};
use crate::training::process::{Observed, Process};
use crate::training::synth::{match_stops, sample_like, Catalog};

/// The sessions of `real` as the process sees them.
fn observed(real: &RealData, sessions: &[usize]) -> Vec<Observed> {
    sessions
        .iter()
        .map(|&s| Observed::of(&real.ds.sessions[s].events, real.starts_cut[s]))
        .collect()
}

/// The fitted generator: the process, how the number of hidden states was chosen, the
/// achieved moments, and the side-by-side figures against real December.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GeneratorFit {
    pub process: Process,
    /// (states, log-likelihood per event on Oct–Nov, on December).
    pub states_tried: Vec<(usize, f64, f64)>,
    pub states: usize,
    /// Generated whole sessions: events per session, share with a purchase, kind shares.
    pub moments: (f64, f64, [f64; 4]),
    pub real_december: SessionFigures,
    pub generated_like_sample: SessionFigures,
    /// The table (Markdown).
    pub table: String,
}

/// Fits the generator's process on the real Oct–Nov sessions: 1 to `max_states` hidden
/// states by EM, the number chosen by the log-likelihood of December's sessions; stop
/// probabilities by moment matching; then the December side-by-side table.
pub fn fit_generator(
    real: &RealData,
    cat: &Catalog,
    max_states: usize,
    progress: bool,
) -> GeneratorFit {
    let fit = observed(real, &real.months.fit);
    let dev = observed(real, &real.months.dev);
    let mut tried = Vec::new();
    let mut best: Option<(f64, Process)> = None;
    for k in 1..=max_states {
        let p = Process::fit(&fit, k, 300, 4);
        let (lf, nf) = p.log_likelihood(&fit);
        let (ld, nd) = p.log_likelihood(&dev);
        let (pf, pd) = (lf / nf as f64, ld / nd as f64);
        if progress {
            eprintln!("generator: {k} state(s): log-likelihood per event {pf:.4} on Oct–Nov, {pd:.4} on December");
        }
        tried.push((k, pf, pd));
        if best.as_ref().is_none_or(|b| pd > b.0) {
            best = Some((pd, p));
        }
    }
    let mut process = best.expect("one state at least").1;
    let moments = match_stops(&mut process, 0x5e55);
    // Real December as the sample shows it, and generated sessions cut the same way.
    let dec: Vec<&[Event]> = real
        .months
        .dev
        .iter()
        .map(|&s| real.ds.sessions[s].events.as_slice())
        .collect();
    let (first, last) = dec
        .iter()
        .flat_map(|s| s.iter().map(|e| e.time_ms))
        .fold((i64::MAX, i64::MIN), |(a, b), t| (a.min(t), b.max(t)));
    let span = (last - first).max(60_000);
    let real_events: usize = dec.iter().map(|s| s.len()).sum();
    // Arrival rate so the cut holds about as many events as real December: two corrections.
    let mut rate = real_events as f64 / (span as f64 / 60_000.0) / moments.0.max(1.0);
    let mut generated = Vec::new();
    for _ in 0..3 {
        generated = sample_like(&process, cat, DEC_2019, span, rate, 0xdec);
        let n: usize = generated.iter().map(Vec::len).sum();
        rate *= real_events as f64 / n.max(1) as f64;
    }
    let markov1 = Baseline::markov(1, real.windows(&real.fit));
    let real_december = fit_table::figures(&dec, &markov1);
    let gen_refs: Vec<&[Event]> = generated.iter().map(Vec::as_slice).collect();
    let generated_like_sample = fit_table::figures(&gen_refs, &markov1);
    let table = fit_table::markdown(&[
        ("real December 2019 (held out from the fit)", &real_december),
        ("generated, cut like the sample", &generated_like_sample),
    ]);
    GeneratorFit {
        states: process.states(),
        process,
        states_tried: tried,
        moments,
        real_december,
        generated_like_sample,
        table,
    }
}

/// How the shipped model is trained: optionally pre-trained on generated windows, then
/// fine-tuned on the real Oct–Nov windows with December for early stopping and calibration.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Recipe {
    pub pretrain: Option<TrainConfig>,
    pub finetune: TrainConfig,
}

/// Generated data for pre-training: its dataset, windows and censoring.
pub struct Generated<'a> {
    pub ds: &'a Dataset,
    pub train: &'a [WindowRef],
    pub valid: &'a [WindowRef],
}

/// Pre-trains (when the recipe says so) and fine-tunes; returns the fine-tuned model and the
/// pre-trained one's history.
pub fn train_recipe(
    real: &RealData,
    generated: Option<&Generated>,
    recipe: &Recipe,
    on_epoch: &mut dyn FnMut(&str, &EpochStats),
) -> (Trained, Option<Vec<EpochStats>>) {
    let pre = match (&recipe.pretrain, generated) {
        (Some(cfg), Some(g)) => {
            let ends_cut: Vec<bool> = g.ds.censoring().into_iter().map(|c| c.1).collect();
            Some(train_from(
                g.ds,
                g.train,
                g.valid,
                &ends_cut,
                cfg,
                None,
                &mut |h| on_epoch("pretrain", h),
            ))
        }
        _ => None,
    };
    let history = pre.as_ref().map(|p| p.history.clone());
    let fine = train_from(
        &real.ds,
        &real.fit,
        &real.dev,
        &real.ends_cut,
        &recipe.finetune,
        pre.map(|p| p.model),
        &mut |h| on_epoch("finetune", h),
    );
    (fine, history)
}

/// Probabilities of a trained network (burn, calibrated) on real windows.
pub fn burn_probs(
    trained: &Trained,
    ds: &Dataset,
    refs: &[WindowRef],
    ctx: Option<&crate::core::context::CalendarIndex>,
) -> (Vec<f32>, Vec<f32>) {
    let mut p = Vec::with_capacity(refs.len() * 4);
    let mut c = Vec::new();
    for chunk in refs.chunks(4096) {
        let (b, _) = encode_windows(ds, chunk, ctx);
        let (x, y) = trained.heads(&b);
        p.extend(x);
        c.extend(y);
    }
    (p, c)
}
