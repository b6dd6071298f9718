//! Browser tests (wasm32, headless Chromium via wasm-bindgen-test): the encoder gives the same
//! bits and tract the same probabilities (≤ 1e-5) as natively, per `tests/golden/parity.json`,
//! and bad input gives errors without killing the module.
#![cfg(target_arch = "wasm32")]

mod common;

use common::Golden;
use nextevent::core::encode::Batch;
use nextevent::core::predict::Predictor;
use nextevent::{Error, EventKind};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn golden() -> Golden {
    serde_json::from_str(include_str!("golden/parity.json")).expect("golden json")
}

#[wasm_bindgen_test]
fn encoder_is_bit_identical_to_native() {
    for case in golden().cases {
        let b = Batch::single(&case.events);
        let ours: Vec<u32> = b.features.iter().map(|f| f.to_bits()).collect();
        let native: Vec<u32> = case.features.iter().map(|f| f.to_bits()).collect();
        assert_eq!(ours, native, "{}", case.name);
        assert_eq!(b.brands, case.brands, "{}", case.name);
    }
}

#[wasm_bindgen_test]
fn tract_in_the_browser_matches_native_tract() {
    let p = Predictor::embedded().expect("model loads in the browser");
    let g = golden();
    let mut worst = 0f32;
    for case in &g.cases {
        let pred = p.predict(&case.events).expect("prediction");
        for (a, b) in pred.probabilities.iter().zip(&case.probabilities) {
            worst = worst.max((a - b).abs());
        }
    }
    web_sys::console::log_1(
        &format!(
            "max |p_wasm - p_native| over {} cases: {worst:e}",
            g.cases.len()
        )
        .into(),
    );
    assert!(worst <= 1e-5, "max diff {worst}");
}

#[wasm_bindgen_test]
fn corrupt_or_foreign_models_are_refused_in_the_browser() {
    let p = Predictor::embedded().unwrap();
    let case = &golden().cases[0];
    for (name, bytes, want) in common::bad_models() {
        common::assert_refused(name, &bytes, want);
        // The loaded predictor is untouched and still gives the native probabilities.
        let again = p.predict(&case.events).unwrap();
        for (g, w) in again.probabilities.iter().zip(case.probabilities) {
            assert!((g - w).abs() <= 1e-5, "{name}: {g} vs {w}");
        }
    }
}

#[wasm_bindgen_test]
fn bad_input_is_an_error_and_the_module_survives() {
    let p = Predictor::embedded().unwrap();
    assert!(matches!(p.predict(&[]), Err(Error::EmptySequence)));
    let e = nextevent::core::json::events_from_json(
        r#"[{"event_type":"view","event_time":"x","product_id":1,"price":1}]"#,
    )
    .unwrap_err();
    assert!(e.to_string().contains("event 0: field `event_time`"), "{e}");
    assert!(Predictor::from_onnx_bytes(&[1, 2, 3]).is_err());
    let case = &golden().cases[0];
    let again = p.predict(&case.events).unwrap();
    assert!(EventKind::ALL.contains(&again.next));
}
