//! Fuzz target: the one encoder (`Batch::push`) on fuzzer-built events. Invariants: no panic
//! on any input; for sequences that pass validation, every feature is finite and within its
//! documented range and every brand bucket is below `BRAND_BUCKETS`.
#![no_main]

use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use nextevent::core::encode::Batch;
use nextevent::core::spec::{BRAND_BUCKETS, N_FEATURES, WINDOW};

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(events) = nextevent_fuzz::events(&mut u, 64) else {
        return;
    };
    if events.is_empty() {
        return;
    }
    let valid = nextevent::core::event::validate_sequence(&events).is_ok();
    let mut batch = Batch::with_capacity(1);
    batch.push(&events);
    assert_eq!(batch.n, 1);
    assert_eq!(batch.features.len(), WINDOW * N_FEATURES);
    assert_eq!(batch.brands.len(), WINDOW);
    if valid {
        for (i, x) in batch.features.iter().enumerate() {
            assert!(
                x.is_finite(),
                "feature {} of step {} is {x}",
                i % N_FEATURES,
                i / N_FEATURES
            );
            assert!(
                (-1.0..=1e3).contains(x),
                "feature {} of step {} is {x}",
                i % N_FEATURES,
                i / N_FEATURES
            );
        }
        assert!(batch
            .brands
            .iter()
            .all(|&b| (0..BRAND_BUCKETS as i64).contains(&b)));
    }
});
