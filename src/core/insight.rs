//! What a shop acts on: churn risk — P(a purchase later in this visit) below the visit
//! stage's threshold, or, for a model without the conversion head, today's P(next event is a
//! purchase) below one threshold — the shopper's favourite brand, a suggested intervention,
//! and each event's influence on the prediction.

use std::collections::HashMap;

use serde::Serialize;

use crate::core::encode::Batch;
use crate::core::error::Result;
use crate::core::event::{Event, EventKind};
use crate::core::predict::{Prediction, Predictor};
use crate::core::spec::{ModelInfo, WINDOW};
use crate::core::visit::{Stage, StageThresholds};

/// Churn risk on the next-event basis (one-output models): P(next is a purchase) < threshold.
pub fn churn_risk(p: &Prediction, threshold: f32) -> bool {
    p.p(EventKind::Purchase) < threshold
}

/// What the churn flag compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskBasis {
    /// P(a purchase later in this visit) against the stage's threshold.
    Conversion,
    /// P(the next event is a purchase) against one threshold: models without the
    /// conversion head.
    NextPurchase,
}

impl RiskBasis {
    pub fn as_str(self) -> &'static str {
        match self {
            RiskBasis::Conversion => "conversion",
            RiskBasis::NextPurchase => "next_purchase",
        }
    }
}

/// The churn flag of one prediction.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Risk {
    pub at_risk: bool,
    /// The threshold compared with; `None` for a visit that purchased (never flagged).
    pub threshold: Option<f32>,
    pub basis: RiskBasis,
}

/// Per-stage defaults when a conversion model carries none (a middling prior: flag a
/// visit whose purchase chance is under a tenth in a cart, a fiftieth while browsing).
pub const FALLBACK_STAGE_THRESHOLDS: StageThresholds = StageThresholds {
    browsing: 0.02,
    cart: 0.1,
    cart_emptied: 0.05,
};

/// The churn flag: with a conversion head, P(purchase later) below the threshold of the
/// visit's `stage` (`uniform` when the page set one value for every stage, else the model's
/// per-stage defaults); without it, today's next-event definition with `uniform` or the
/// model's default threshold.
pub fn risk(p: &Prediction, stage: Stage, info: &ModelInfo, uniform: Option<f32>) -> Risk {
    match p.conversion {
        Some(c) => {
            let thresholds = uniform
                .map(StageThresholds::uniform)
                .unwrap_or_else(|| info.stage_thresholds.unwrap_or(FALLBACK_STAGE_THRESHOLDS));
            let threshold = thresholds.of(stage);
            Risk {
                at_risk: threshold.is_some_and(|t| c < t),
                threshold,
                basis: RiskBasis::Conversion,
            }
        }
        None => {
            let t = uniform.unwrap_or(info.churn_threshold);
            Risk {
                at_risk: churn_risk(p, t),
                threshold: Some(t),
                basis: RiskBasis::NextPurchase,
            }
        }
    }
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

/// Churn flag plus what to offer, for the visit's stage.
pub fn intervention(events: &[Event], risk: &Risk, stage: Stage) -> Intervention {
    let fav = favourite_brand(events);
    let message = match (risk.at_risk, stage, &fav) {
        (_, Stage::Purchased, Some(b)) => {
            format!("Bought in this visit: no offer needed (suggest more {b} next time).")
        }
        (_, Stage::Purchased, None) => "Bought in this visit: no offer needed.".to_string(),
        (false, _, _) => "No action needed: a purchase is likely enough.".to_string(),
        (true, Stage::Cart, Some(b)) => {
            format!("At risk of leaving the cart: offer 10 % off {b}, or free shipping.")
        }
        (true, Stage::Cart, None) => {
            "At risk of leaving the cart: offer free shipping.".to_string()
        }
        (true, Stage::CartEmptied, Some(b)) => {
            format!("Emptied the cart: remind them of the {b} items, or offer a {b} bundle.")
        }
        (true, Stage::CartEmptied, None) => {
            "Emptied the cart: show what they removed, with a small discount.".to_string()
        }
        (true, Stage::Browsing, Some(b)) => {
            format!("Unlikely to buy this visit: show {b} reviews and bestsellers.")
        }
        (true, Stage::Browsing, None) => {
            "Unlikely to buy this visit: show bestsellers.".to_string()
        }
    };
    Intervention {
        at_risk: risk.at_risk,
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
        let info = ModelInfo {
            churn_threshold: 0.2,
            ..Default::default()
        };
        let r = risk(&p, Stage::Cart, &info, None);
        assert_eq!((r.at_risk, r.basis), (true, RiskBasis::NextPurchase));
        let i = intervention(&[ev(EventKind::Cart, Some("runail"))], &r, Stage::Cart);
        assert!(i.at_risk && i.message.contains("runail"));
    }

    #[test]
    fn the_conversion_flag_uses_the_stage_threshold_and_spares_buyers() {
        let mut p = Prediction::from_probabilities([0.5, 0.3, 0.1, 0.1]);
        p.conversion = Some(0.08);
        let info = ModelInfo {
            stage_thresholds: Some(StageThresholds {
                browsing: 0.01,
                cart: 0.1,
                cart_emptied: 0.05,
            }),
            ..Default::default()
        };
        assert!(risk(&p, Stage::Cart, &info, None).at_risk);
        assert!(!risk(&p, Stage::Browsing, &info, None).at_risk);
        assert!(!risk(&p, Stage::CartEmptied, &info, None).at_risk);
        let bought = risk(&p, Stage::Purchased, &info, Some(0.9));
        assert_eq!((bought.at_risk, bought.threshold), (false, None));
        let uniform = risk(&p, Stage::Browsing, &info, Some(0.5));
        assert_eq!(
            (uniform.at_risk, uniform.threshold, uniform.basis),
            (true, Some(0.5), RiskBasis::Conversion)
        );
        let msg = intervention(&[ev(EventKind::View, None)], &uniform, Stage::Browsing).message;
        assert!(msg.starts_with("Unlikely to buy this visit"), "{msg}");
    }
}
