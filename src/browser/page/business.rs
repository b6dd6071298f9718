//! The business view: the churn-risk line with the suggested intervention, and the threshold
//! slider with its default (logic in [`crate::core::insight`]).

use leptos::prelude::*;

use super::State;
use crate::core::event::Event;
use crate::core::insight;
use crate::core::predict::Prediction;

#[component]
pub fn ChurnLine(events: Vec<Event>, prediction: Prediction, threshold: f32) -> impl IntoView {
    let risk = insight::intervention(&events, &prediction, threshold);
    view! {
        <p id="churn" class:at-risk=risk.at_risk data-at-risk=risk.at_risk.to_string()>{risk.message}</p>
    }
}

#[component]
pub fn Threshold(state: State) -> impl IntoView {
    let threshold = state.threshold;
    view! {
        <label class="threshold">"Churn-risk threshold on P(purchase): "
            <input id="threshold" type="range" min="0" max="1" step="0.01" prop:value=move || threshold.get().to_string()
                on:input=move |ev| threshold.set(event_target_value(&ev).parse().unwrap_or(0.1))/>
            <output>{move || format!("{:.2}", threshold.get())}</output>
        </label>
        <p class="meta">{move || format!("Default {:.2}: chosen on validation data (Youden's J).", state.model.with(|p| p.info().churn_threshold))}</p>
    }
}
