//! The business view: P(buys this visit), the visit's stage and why, the churn line with its
//! intervention, and the threshold slider with the model's per-stage defaults (logic in
//! [`crate::core::insight`] and [`crate::core::visit`]).

use leptos::prelude::*;

use super::State;
use crate::browser::outcome::pct;
use crate::core::event::Event;
use crate::core::insight;
use crate::core::predict::{Prediction, Predictor};
use crate::core::visit::VisitState;

#[component]
pub fn ChurnLine(
    events: Vec<Event>,
    prediction: Prediction,
    threshold: Option<f32>,
    model: Predictor,
) -> impl IntoView {
    let stage = VisitState::of(&events).stage();
    let risk = insight::risk(&prediction, stage, model.info(), threshold);
    let advice = insight::intervention(&events, &risk, stage);
    let basis = match (prediction.conversion, risk.threshold) {
        (Some(c), Some(t)) => format!(
            "P(buys this visit) {} — stage {} ({}), threshold {:.2}.",
            pct(c),
            stage.as_str(),
            stage.explain(),
            t
        ),
        (Some(c), None) => format!(
            "P(buys this visit) {} — stage {} ({}): never flagged.",
            pct(c),
            stage.as_str(),
            stage.explain()
        ),
        (None, t) => format!(
            "This model has no conversion head: risk is P(next event is a purchase) {} below {:.2}.",
            pct(prediction.p(crate::core::event::EventKind::Purchase)),
            t.unwrap_or_default()
        ),
    };
    view! {
        <p id="conversion" class="meta" data-conversion=prediction.conversion.map(|c| c.to_string()) data-stage=stage.as_str() data-basis=risk.basis.as_str()>{basis}</p>
        <p id="churn" class:at-risk=risk.at_risk data-at-risk=risk.at_risk.to_string()>{advice.message}</p>
    }
}

#[component]
pub fn Threshold(state: State) -> impl IntoView {
    let threshold = state.threshold;
    let defaults = move || {
        state.model.with(|p| match (p.has_conversion(), p.info().stage_thresholds) {
            (true, Some(t)) => format!(
                "Defaults per stage: browsing {:.2}, cart {:.2}, cart emptied {:.2} — chosen on validation data (balanced error per stage). The slider sets one value for every stage.",
                t.browsing, t.cart, t.cart_emptied
            ),
            (true, None) => "This model carries no per-stage defaults; the slider sets one value for every stage.".into(),
            (false, _) => format!(
                "Default {:.2}: chosen on validation data (Youden's J), on P(next event is a purchase).",
                p.info().churn_threshold
            ),
        })
    };
    let label = move || {
        if state.model.with(Predictor::has_conversion) {
            "Churn-risk threshold on P(buys this visit): "
        } else {
            "Churn-risk threshold on P(purchase next): "
        }
    };
    view! {
        <label class="threshold">{label}
            <input id="threshold" type="range" min="0" max="1" step="0.01"
                prop:value=move || threshold.get().map_or(String::new(), |t| t.to_string())
                on:input=move |ev| threshold.set(event_target_value(&ev).parse().ok())/>
            <output>{move || threshold.get().map_or("per stage".to_string(), |t| format!("{t:.2}"))}</output>
        </label>
        <button id="threshold-reset" on:click=move |_| threshold.set(None)>"Use the per-stage defaults"</button>
        <p class="meta">{defaults}</p>
    }
}
