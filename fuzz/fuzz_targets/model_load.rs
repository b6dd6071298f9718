//! Fuzz target: model loading with the spec check (`Predictor::from_onnx_bytes`), seeded with
//! the shipped model so mutations reach the protobuf, metadata and graph code. Invariants: no
//! panic; a model that loads predicts finite probabilities or returns an error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nextevent::{Event, EventKind};

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = nextevent::core::predict::Predictor::from_onnx_bytes(data) {
        let e = Event {
            time_ms: 1_575_000_000_000,
            kind: EventKind::View,
            product_id: 5_802_432,
            brand: None,
            price: 4.05,
            category_code: None,
        };
        if let Ok(pred) = p.predict(&[e]) {
            assert!(pred.probabilities.iter().all(|x| !x.is_nan()));
        }
    }
});
