//! The result object a shop acts on after a prediction (the JS API's `Outlook`): the four
//! probabilities by name, the most likely next event, P(a purchase later in this visit), the
//! visit's stage, churn risk, favourite brand, influence.

use serde::Serialize;

use crate::core::error::{Error, Result};
use crate::core::event::{Event, EventKind};
use crate::core::insight;
use crate::core::predict::{Prediction, Predictor};
use crate::core::visit::VisitState;

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
    /// P(a purchase later in this visit), from a model with the conversion head.
    pub conversion: Option<f32>,
    /// The visit's stage: `browsing`, `cart`, `cart_emptied` or `purchased`.
    pub stage: &'static str,
    /// Conversion below the stage's threshold (or, for a one-output model, P(next is a
    /// purchase) below the threshold); never for a visit that purchased.
    pub churn_risk: bool,
    /// The threshold compared with (`None` once the visit purchased).
    pub threshold: Option<f32>,
    /// What churn risk compares: `conversion`, or `next_purchase` for a one-output model.
    pub risk_basis: &'static str,
    pub favourite_brand: Option<String>,
    /// Per event of the window: change in P(purchase) when it is left out (on request).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub influence: Option<Vec<f32>>,
}

impl Outlook {
    /// Predicts on `events` (the visit's state given by `visit`, or taken from the events
    /// alone) and adds the stage, churn risk (`uniform`: one threshold for every stage, else
    /// the model's defaults), favourite brand and (optionally) influence.
    pub fn of(
        predictor: &Predictor,
        events: &[Event],
        visit: Option<&VisitState>,
        uniform: Option<f32>,
        with_influence: bool,
    ) -> Result<Self> {
        let p = predictor.predict(events)?;
        Self::from_prediction(predictor, events, &p, visit, uniform, with_influence)
    }

    /// Outlooks for many sequences (each oldest first) from one batched run of the model:
    /// the Python package's `predict_batch`. The error names the failing sequence.
    pub fn batch(
        predictor: &Predictor,
        sequences: &[&[Event]],
        uniform: Option<f32>,
    ) -> Result<Vec<Self>> {
        let predictions = predictor.predict_batch(sequences)?;
        sequences
            .iter()
            .zip(&predictions)
            .map(|(events, p)| Self::from_prediction(predictor, events, p, None, uniform, false))
            .collect()
    }

    /// The outlook of a prediction `p` already made on `events`.
    fn from_prediction(
        predictor: &Predictor,
        events: &[Event],
        p: &Prediction,
        visit: Option<&VisitState>,
        uniform: Option<f32>,
        with_influence: bool,
    ) -> Result<Self> {
        let influence = if with_influence {
            Some(insight::influence(predictor, events, p)?)
        } else {
            None
        };
        let own;
        let visit = match visit {
            Some(v) => v,
            None => {
                own = VisitState::of(events);
                &own
            }
        };
        let stage = visit.stage();
        let risk = insight::risk(p, stage, predictor.info(), uniform);
        Ok(Outlook {
            probabilities: p.into(),
            next: p.next.as_str(),
            confidence: p.confidence,
            conversion: p.conversion,
            stage: stage.as_str(),
            churn_risk: risk.at_risk,
            threshold: risk.threshold,
            risk_basis: risk.basis.as_str(),
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
