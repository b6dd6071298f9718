//! The predictor's contract on native builds: it loads the shipped model, predicts sane
//! probabilities, and refuses bad models and bad sequences with typed errors.

mod common;

use std::sync::Arc;

use nextevent::core::predict::{Predictor, MAX_EVENTS};
use nextevent::core::spec::FeatureSpec;
use nextevent::{Error, Event, EventKind};

fn ev(t: i64, kind: EventKind) -> Event {
    Event {
        time_ms: 1_575_000_000_000 + t * 1000,
        kind,
        product_id: 5_802_432,
        brand: Some(Arc::from("runail")),
        price: 4.05,
        category_code: None,
    }
}

#[test]
fn shipped_model_loads_and_predicts_probabilities() {
    let p = Predictor::embedded().unwrap();
    assert_eq!(p.spec(), &FeatureSpec::current());
    assert!(p.info().name.contains("CNN+BiGRU"), "{:?}", p.info().name);
    let seq = [ev(0, EventKind::View), ev(10, EventKind::Cart)];
    let one = p.predict(&seq).unwrap();
    assert!((one.probabilities.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    assert!(one.probabilities.iter().all(|&x| (0.0..=1.0).contains(&x)));
    assert_eq!(one.confidence, one.probabilities[one.next.index()]);
    let batch = p.predict_batch(&[&seq[..1], &seq]).unwrap();
    // Batch and single predictions agree (two plans; kernels may round the last bits apart).
    for (a, b) in batch[1].probabilities.iter().zip(one.probabilities) {
        assert!((a - b).abs() < 1e-6, "batch {a} vs single {b}");
    }
    assert_eq!(batch[1].next, one.next);
}

#[test]
fn batched_outlooks_equal_single_ones() {
    use nextevent::core::outlook::Outlook;
    let p = Predictor::embedded().unwrap();
    let seqs: Vec<Vec<Event>> = common::sequences().into_iter().map(|(_, s)| s).collect();
    let refs: Vec<&[Event]> = seqs.iter().map(Vec::as_slice).collect();
    let batch = Outlook::batch(&p, &refs, None).unwrap();
    assert_eq!(batch.len(), refs.len());
    for (s, b) in refs.iter().zip(&batch) {
        let one = Outlook::of(&p, s, None, None, false).unwrap();
        assert_eq!(
            (one.next, one.stage, one.churn_risk, &one.favourite_brand),
            (b.next, b.stage, b.churn_risk, &b.favourite_brand)
        );
        assert!((one.probabilities.view - b.probabilities.view).abs() < 1e-6);
        assert!((one.conversion.unwrap() - b.conversion.unwrap()).abs() < 1e-6);
    }
    let empty: &[Event] = &[];
    let err = Outlook::batch(&p, &[refs[0], empty], None).unwrap_err();
    assert_eq!(err.to_string(), "invalid events: sequence 1 is empty");
}

/// The batch scorer, Python and Spark cut the same sessions into different batches; a
/// window's result must not depend on which batch it lands in, down to the bit.
#[test]
fn a_windows_result_does_not_depend_on_its_batch() {
    let p = Predictor::embedded().unwrap();
    let seqs: Vec<Vec<Event>> = common::sequences().into_iter().map(|(_, s)| s).collect();
    let refs: Vec<&[Event]> = seqs.iter().map(Vec::as_slice).collect();
    assert!(refs.len() >= 3, "{} sequences", refs.len());
    let all = p.predict_batch(&refs).unwrap();
    for (i, s) in refs.iter().enumerate() {
        let alone = p.predict_batch(&[s]).unwrap();
        assert_eq!(alone[0], all[i], "sequence {i} alone");
        let pair = p.predict_batch(&[refs[(i + 1) % refs.len()], s]).unwrap();
        assert_eq!(pair[1], all[i], "sequence {i} second of two");
    }
}

#[test]
fn bad_sequences_are_typed_errors() {
    let p = Predictor::embedded().unwrap();
    assert!(matches!(p.predict(&[]), Err(Error::EmptySequence)));
    let many: Vec<Event> = (0..MAX_EVENTS as i64 + 1)
        .map(|i| ev(i, EventKind::View))
        .collect();
    assert!(matches!(p.predict(&many), Err(Error::TooManyEvents { .. })));
    let mut nan = vec![ev(0, EventKind::View), ev(1, EventKind::View)];
    nan[1].price = f32::NAN;
    let e = p.predict(&nan).unwrap_err().to_string();
    assert!(e.contains("event 1: field `price`"), "{e}");
    let e = p
        .predict(&[ev(5, EventKind::View), ev(1, EventKind::Cart)])
        .unwrap_err()
        .to_string();
    assert!(e.contains("event 1: field `event_time`"), "{e}");
    let e = p
        .predict_batch(&[&[ev(0, EventKind::View)], &[]])
        .unwrap_err()
        .to_string();
    assert!(e.contains("sequence 1"), "{e}");
    // still works afterwards
    assert!(p.predict(&[ev(0, EventKind::View)]).is_ok());
}

#[test]
fn corrupt_or_foreign_models_are_refused_with_reasons() {
    let p = Predictor::embedded().unwrap();
    let seq = [ev(0, EventKind::View), ev(10, EventKind::Cart)];
    let before = p.predict(&seq).unwrap();
    for (name, bytes, want) in common::bad_models() {
        common::assert_refused(name, &bytes, want);
        assert_eq!(
            p.predict(&seq).unwrap(),
            before,
            "{name}: the loaded predictor changed"
        );
    }
    // The same table, as files, for the demo's end-to-end test (tests/e2e/models.test.mjs).
    common::write_bad_models();
}

#[test]
fn every_refusal_comes_before_tract_builds_the_model() {
    // The demo loads a model in steps, a task each (`Predictor::read`, then `declutter` and
    // `optimize`). On wasm32 a panic inside tract aborts the page's instance, so the file's
    // checks (size, protobuf, spec, graph) must all run in the first step, before tract builds
    // a model from the graph: every bad model is refused by `read` itself.
    for (name, bytes, want) in common::bad_models() {
        match Predictor::read(&bytes) {
            Err(e) => assert!(e.to_string().contains(want), "{name}: {e}"),
            Ok(_) => panic!("{name}: the first step accepted it"),
        }
    }
    let read = Predictor::read(nextevent::core::predict::EMBEDDED_MODEL).unwrap();
    assert_eq!(read.spec(), &FeatureSpec::current());
    let p = read.declutter().unwrap().optimize().unwrap();
    p.prepare_batch().unwrap();
    let seq = [ev(0, EventKind::View), ev(10, EventKind::Cart)];
    let (one, batch) = (p.predict(&seq).unwrap(), p.predict_batch(&[&seq]).unwrap());
    for (a, b) in batch[0].probabilities.iter().zip(one.probabilities) {
        assert!((a - b).abs() < 1e-6, "batch {a} vs single {b}");
    }
}
