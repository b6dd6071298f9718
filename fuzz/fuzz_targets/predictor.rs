//! Fuzz target: the predictor on arbitrary sequences. The first byte picks the input form:
//! even → the rest is Kaggle CSV (seeded with real rows), odd → fuzzer-built events with any
//! time, price bits and brand text. Invariants: no panic; `Ok` holds finite probabilities
//! summing to 1; a sequence the validator rejects is an `Err`, never a prediction.
#![no_main]

use std::sync::OnceLock;

use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use nextevent::core::predict::Predictor;

fn predictor() -> &'static Predictor {
    static P: OnceLock<Predictor> = OnceLock::new();
    P.get_or_init(|| Predictor::embedded().expect("shipped model loads"))
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let events = if mode % 2 == 0 {
        let Ok(text) = std::str::from_utf8(rest) else {
            return;
        };
        nextevent::core::kaggle_csv::parse_kaggle_csv(text).0
    } else {
        match nextevent_fuzz::events(&mut Unstructured::new(rest), 1100) {
            Ok(e) => e,
            Err(_) => return,
        }
    };
    let valid = !events.is_empty()
        && events.len() <= nextevent::core::predict::MAX_EVENTS
        && nextevent::core::event::validate_sequence(&events).is_ok();
    match predictor().predict(&events) {
        Ok(p) => {
            assert!(valid, "a prediction for a sequence the validator rejects");
            assert!(p
                .probabilities
                .iter()
                .all(|x| x.is_finite() && (0.0..=1.0).contains(x)));
            let sum: f32 = p.probabilities.iter().sum();
            assert!((sum - 1.0).abs() < 1e-4, "probabilities sum to {sum}");
        }
        Err(e) => {
            assert!(!valid, "a valid sequence was refused: {e}");
        }
    }
});
