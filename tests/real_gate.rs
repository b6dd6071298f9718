//! The CI gate on real shoppers (feature `data`): the committed model, on the real sample's
//! Jan–Feb 2020 sessions (never used to choose anything), must hold its own against the
//! baselines fitted on Oct–Dec — macro-F1 at least that of "repeat the last kind" and of
//! Markov-1, log loss below Markov-1's and Markov-2's — the same gate `ship` applies before
//! it writes `models/`.

mod common;

use nextevent::core::predict::Predictor;
use nextevent::data::real::{test_report, RealData};

#[test]
fn the_committed_model_passes_the_real_jan_feb_gate() {
    let real = RealData::load(&common::shared_data("cosmetics-sample.csv")).unwrap();
    assert_eq!(real.test.len(), 1314, "Jan–Feb windows of the real sample");
    let model = Predictor::embedded().unwrap();
    let report = test_report(&real, &model, "tests/real_gate.rs").unwrap();
    eprintln!("{}", report.markdown());
    let m = report.model();
    for metric in ["accuracy", "macro_f1", "log_loss"] {
        let iv = m.get(metric);
        assert!(iv.low <= iv.value && iv.value <= iv.high, "{metric}: {iv}");
    }
    if let Err(why) = report.gate() {
        panic!("the committed model fails the real Jan–Feb gate: {why}");
    }
}
