//! The result object a shop acts on after a prediction (the JS API's `Outlook`): the four
//! probabilities by name, the most likely next event, churn risk, favourite brand, influence.

use serde::Serialize;

use crate::core::error::{Error, Result};
use crate::core::event::{Event, EventKind};
use crate::core::insight;
use crate::core::predict::{Prediction, Predictor};

/// The four probabilities by name, as the JS API shows them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Probabilities {
    pub view: f32,
    pub cart: f32,
    pub remove_from_cart: f32,
    pub purchase: f32,
}

impl From<&Prediction> for Probabilities {
    fn from(p: &Prediction) -> Self {
        Probabilities {
            view: p.p(EventKind::View),
            cart: p.p(EventKind::Cart),
            remove_from_cart: p.p(EventKind::RemoveFromCart),
            purchase: p.p(EventKind::Purchase),
        }
    }
}

/// What a shop acts on after a prediction: the JS API's result object.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Outlook {
    pub probabilities: Probabilities,
    pub next: &'static str,
    pub confidence: f32,
    /// P(purchase) is below the threshold.
    pub churn_risk: bool,
    pub threshold: f32,
    pub favourite_brand: Option<String>,
    /// Per event of the window: change in P(purchase) when it is left out (on request).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub influence: Option<Vec<f32>>,
}

impl Outlook {
    /// Predicts on `events` and adds churn risk, favourite brand and (optionally) influence.
    pub fn of(
        predictor: &Predictor,
        events: &[Event],
        threshold: f32,
        with_influence: bool,
    ) -> Result<Self> {
        let p = predictor.predict(events)?;
        let influence = if with_influence {
            Some(insight::influence(predictor, events, &p)?)
        } else {
            None
        };
        Ok(Outlook {
            probabilities: (&p).into(),
            next: p.next.as_str(),
            confidence: p.confidence,
            churn_risk: insight::churn_risk(&p, threshold),
            threshold,
            favourite_brand: insight::favourite_brand(events),
            influence,
        })
    }
}

/// Checks a churn threshold given by a caller.
pub fn check_threshold(t: f64) -> Result<f32> {
    if t.is_finite() && (0.0..=1.0).contains(&t) {
        Ok(t as f32)
    } else {
        Err(Error::Threshold { value: t })
    }
}
