//! Native side of the native ⇄ wasm32 parity check: the encoder and the embedded model must
//! reproduce `tests/golden/parity.json`, which the browser test (`tests/web.rs`) checks too.
//! After changing the model or the encoder, regenerate it with
//! `NEXTEVENT_BLESS=1 cargo test --release --test parity`.

mod common;

use common::{sequences, Case, Golden};
use nextevent::core::encode::Batch;
use nextevent::core::predict::{Predictor, EMBEDDED_MODEL};

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/parity.json");

fn compute() -> Golden {
    let p = Predictor::embedded().expect("embedded model loads");
    let cases = sequences()
        .into_iter()
        .map(|(name, events)| {
            let b = Batch::single(&events);
            let pred = p.predict(&events).expect("prediction");
            Case {
                name,
                events,
                features: b.features,
                brands: b.brands,
                probabilities: pred.probabilities,
            }
        })
        .collect();
    Golden {
        model_bytes: EMBEDDED_MODEL.len(),
        cases,
    }
}

#[test]
fn native_encoder_and_model_match_the_golden_file() {
    let now = compute();
    if std::env::var_os("NEXTEVENT_BLESS").is_some() {
        std::fs::write(GOLDEN, serde_json::to_string_pretty(&now).unwrap()).unwrap();
        return;
    }
    let text = std::fs::read_to_string(GOLDEN)
        .expect("tests/golden/parity.json (create it with NEXTEVENT_BLESS=1)");
    let golden: Golden = serde_json::from_str(&text).unwrap();
    assert_eq!(
        golden.model_bytes, now.model_bytes,
        "the embedded model changed: rerun with NEXTEVENT_BLESS=1"
    );
    assert_eq!(golden.cases.len(), now.cases.len());
    for (g, n) in golden.cases.iter().zip(&now.cases) {
        assert_eq!(g.events, n.events, "{}", g.name);
        let gb: Vec<u32> = g.features.iter().map(|f| f.to_bits()).collect();
        let nb: Vec<u32> = n.features.iter().map(|f| f.to_bits()).collect();
        assert_eq!(gb, nb, "{}: features differ bit-wise", g.name);
        assert_eq!(g.brands, n.brands, "{}", g.name);
        for (a, b) in g.probabilities.iter().zip(&n.probabilities) {
            assert!(
                (a - b).abs() <= 1e-6,
                "{}: {:?} vs {:?}",
                g.name,
                g.probabilities,
                n.probabilities
            );
        }
        assert!((n.probabilities.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    }
}
