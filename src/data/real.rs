//! The real sample as the headline evaluation uses it: split by the month a session starts in
//! (fit on Oct–Nov, decide on December, judge on Jan–Feb), what its edges cut, the baselines
//! of each report, and the December and Jan–Feb reports. Every Jan–Feb evaluation is
//! appended to `target/janfeb-evaluations.log`, the record of when the held-out months were
//! looked at.

use std::path::{Path, PathBuf};

use crate::core::encode::Batch;
use crate::core::event::{Event, EventKind};
use crate::core::predict::Predictor;
use crate::data::baseline::Baseline;
use crate::data::error::Result;
use crate::data::heldout::{self, HeldOut};
use crate::data::ingest::{ingest, windows_of, Dataset, WindowRef};
use crate::data::split::{real_months, RealMonths};

/// The real sample, split by month, with what its edges cut.
pub struct RealData {
    pub ds: Dataset,
    pub months: RealMonths,
    /// Per session: may have begun before the data (the month's first minutes).
    pub starts_cut: Vec<bool>,
    /// Per session: may have gone on after the data (its month's last minutes).
    pub ends_cut: Vec<bool>,
    pub fit: Vec<WindowRef>,
    pub dev: Vec<WindowRef>,
    pub test: Vec<WindowRef>,
    pub path: PathBuf,
}

impl RealData {
    /// Ingests the real sample (the same ingest as every Kaggle file).
    pub fn load(sample: &Path) -> Result<RealData> {
        let ds = ingest(&[sample.to_path_buf()], false)?;
        let months = real_months(&ds);
        let (starts_cut, ends_cut) = ds.censoring().into_iter().unzip();
        Ok(RealData {
            fit: windows_of(&ds, &months.fit),
            dev: windows_of(&ds, &months.dev),
            test: windows_of(&ds, &months.test),
            ds,
            months,
            starts_cut,
            ends_cut,
            path: sample.to_path_buf(),
        })
    }

    /// The windows `refs` as (prefix, next kind).
    pub fn windows<'a>(
        &'a self,
        refs: &'a [WindowRef],
    ) -> impl Iterator<Item = (&'a [Event], EventKind)> + Clone + 'a {
        refs.iter().map(|&w| self.ds.window(w))
    }

    /// The baselines for December: fitted on the Oct–Nov windows.
    pub fn dev_baselines(&self) -> Vec<Baseline> {
        heldout::baselines(self.windows(&self.fit))
    }

    /// The baselines for Jan–Feb: fitted on the Oct–Dec windows.
    pub fn test_baselines(&self) -> Vec<Baseline> {
        let all: Vec<WindowRef> = self.fit.iter().chain(&self.dev).copied().collect();
        let w: Vec<(&[Event], EventKind)> = self.windows(&all).collect();
        heldout::baselines(w.iter().cloned())
    }
}

/// Probabilities of a model (tract) on windows: `[n,4]` and, with a conversion head, `[n]`.
pub fn tract_probs(
    p: &Predictor,
    ds: &Dataset,
    refs: &[WindowRef],
) -> Result<(Vec<f32>, Vec<f32>)> {
    let (mut probs, mut conv) = (Vec::with_capacity(refs.len() * 4), Vec::new());
    for chunk in refs.chunks(4096) {
        let mut b = Batch::with_capacity(chunk.len());
        for &w in chunk {
            b.push_with(ds.window(w).0, p.calendar());
        }
        let (x, y) = p.run_heads(&b)?;
        probs.extend(x);
        conv.extend(y.unwrap_or_default());
    }
    Ok((probs, conv))
}

/// The December report (decisions are made on it): baselines fitted on Oct–Nov.
pub fn dev_report(real: &RealData, model_name: &str, probs: &[f32]) -> HeldOut {
    heldout::evaluate(
        "On real shoppers, development month (December 2019 sessions)",
        &real.ds,
        &real.dev,
        model_name,
        probs,
        heldout::Against {
            baselines: &real.dev_baselines(),
            fitted_on: "the real Oct–Nov 2019 sessions",
        },
        0xdec,
    )
}

/// The Jan–Feb report (the headline; never used to choose): baselines fitted on Oct–Dec.
/// `why` says who evaluates (logged with the figures).
pub fn test_report(real: &RealData, model: &Predictor, why: &str) -> Result<HeldOut> {
    let (probs, _) = tract_probs(model, &real.ds, &real.test)?;
    let r = heldout::evaluate(
        "On real shoppers (Jan–Feb 2020 sessions)",
        &real.ds,
        &real.test,
        &model.info().name,
        &probs,
        heldout::Against {
            baselines: &real.test_baselines(),
            fitted_on: "the real Oct–Dec 2019 sessions",
        },
        0x2020,
    );
    log_test_evaluation(why, model, &r);
    Ok(r)
}

/// Appends one Jan–Feb evaluation to `target/janfeb-evaluations.log` (who, when, which
/// model, the figures): the record of every time the held-out months were looked at.
fn log_test_evaluation(why: &str, model: &Predictor, r: &HeldOut) {
    let m = r.model();
    let line = format!(
        "{} | {why} | {} ({} bytes) | acc {:.4} macro-F1 {:.4} log loss {:.4} | gate {}\n",
        time::OffsetDateTime::now_utc(),
        model.info().name,
        model.size_bytes(),
        m.get("accuracy").value,
        m.get("macro_f1").value,
        m.get("log_loss").value,
        if r.gate().is_ok() { "passed" } else { "failed" }
    );
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/janfeb-evaluations.log");
    let _ = std::fs::create_dir_all(path.parent().expect("target/"));
    use std::io::Write;
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
    {
        let _ = f.write_all(line.as_bytes());
    }
}
