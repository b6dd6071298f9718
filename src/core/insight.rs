//! What a shop acts on: churn risk from P(purchase), the shopper's favourite brand, a
//! suggested intervention, and each event's influence on the prediction.

use std::collections::HashMap;

use serde::Serialize;

use crate::core::encode::Batch;
use crate::core::error::Result;
use crate::core::event::{Event, EventKind};
use crate::core::predict::{Prediction, Predictor};
use crate::core::spec::WINDOW;

/// Churn risk: the purchase probability is below the threshold.
pub fn churn_risk(p: &Prediction, threshold: f32) -> bool {
    p.p(EventKind::Purchase) < threshold
}

/// The brand seen most often in the last `WINDOW` events, weighting carts and purchases
/// above views (ties go to the most recent). `None` when no event has a brand.
pub fn favourite_brand(events: &[Event]) -> Option<String> {
    let w = &events[events.len().saturating_sub(WINDOW)..];
    let mut score: HashMap<String, (f32, usize)> = HashMap::new();
    for (i, e) in w.iter().enumerate() {
        let Some(b) = e.brand.as_deref().map(str::trim).filter(|b| !b.is_empty()) else {
            continue;
        };
        let weight = match e.kind {
            EventKind::View => 1.0,
            EventKind::Cart | EventKind::Purchase => 2.0,
            EventKind::RemoveFromCart => 0.5,
        };
        let s = score.entry(b.to_lowercase()).or_insert((0.0, 0));
        s.0 += weight;
        s.1 = i;
    }
    score
        .into_iter()
        .max_by(|a, b| a.1 .0.total_cmp(&b.1 .0).then(a.1 .1.cmp(&b.1 .1)))
        .map(|(b, _)| b)
}

/// A suggested action for a shopper at risk.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Intervention {
    pub at_risk: bool,
    pub favourite_brand: Option<String>,
    pub message: String,
}

/// Churn flag plus what to offer.
pub fn intervention(events: &[Event], p: &Prediction, threshold: f32) -> Intervention {
    let at_risk = churn_risk(p, threshold);
    let fav = favourite_brand(events);
    let message = match (at_risk, &fav) {
        (false, _) => "No action needed: purchase is likely enough.".to_string(),
        (true, Some(b)) => format!("At risk: offer 10 % off {b}, or show {b} reviews and bundles."),
        (true, None) => "At risk: offer free shipping or a bestseller pick.".to_string(),
    };
    Intervention {
        at_risk,
        favourite_brand: fav,
        message,
    }
}

/// Influence of each event: how much P(purchase) changes when that event is left out
/// (positive = the event raised it). Events before the last `WINDOW` have no influence.
pub fn influence(predictor: &Predictor, events: &[Event], base: &Prediction) -> Result<Vec<f32>> {
    if events.len() <= 1 {
        return Ok(vec![0.0; events.len()]);
    }
    let start = events.len().saturating_sub(WINDOW);
    let mut batch = Batch::with_capacity(events.len() - start);
    let mut without = Vec::with_capacity(events.len());
    for i in start..events.len() {
        without.clear();
        without.extend_from_slice(&events[..i]);
        without.extend_from_slice(&events[i + 1..]);
        batch.push_with(&without, predictor.calendar());
    }
    let preds = predictor.run(&batch)?;
    let mut out = vec![0.0; start];
    let base_p = base.p(EventKind::Purchase);
    out.extend(preds.iter().map(|p| base_p - p.p(EventKind::Purchase)));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn ev(kind: EventKind, brand: Option<&str>) -> Event {
        Event {
            time_ms: 1_570_000_000_000,
            kind,
            product_id: 1,
            brand: brand.map(Arc::from),
            price: 1.0,
            category_code: None,
        }
    }

    #[test]
    fn favourite_brand_weights_carts() {
        let e = vec![
            ev(EventKind::View, Some("a")),
            ev(EventKind::View, Some("a")),
            ev(EventKind::Cart, Some("B")),
            ev(EventKind::Cart, Some("b")),
        ];
        assert_eq!(favourite_brand(&e).as_deref(), Some("b"));
        assert_eq!(favourite_brand(&[ev(EventKind::View, None)]), None);
    }

    #[test]
    fn threshold_flips_the_flag() {
        let p = Prediction::from_probabilities([0.5, 0.3, 0.1, 0.1]);
        assert!(churn_risk(&p, 0.2));
        assert!(!churn_risk(&p, 0.05));
        let i = intervention(&[ev(EventKind::Cart, Some("runail"))], &p, 0.2);
        assert!(i.at_risk && i.message.contains("runail"));
    }
}
