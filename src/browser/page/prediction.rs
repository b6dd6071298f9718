//! The prediction: four labelled bars, the most likely next event, the business view's line
//! and the latency — or why there is no prediction.

use leptos::prelude::*;

use super::business::ChurnLine;
use super::{kind_class, State};
use crate::browser::outcome::{pct, Outcome};
use crate::core::event::EventKind;

#[component]
pub fn NextEvent(state: State) -> impl IntoView {
    move || match state.outcome.get() {
        Outcome::Empty => {
            view! { <p class="hint">"Add an event to see a prediction."</p> }.into_any()
        }
        Outcome::Issues(_) => {
            view! { <p class="hint">"Fix the marked events to see a prediction."</p> }.into_any()
        }
        Outcome::Failed(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
        Outcome::Ready {
            prediction,
            millis,
            events,
            ..
        } => {
            let (name, kb) = state
                .model
                .with(|p| (p.info().name.clone(), p.size_bytes() as f64 / 1024.0));
            view! {
                <div id="bars" data-next=prediction.next.as_str()>
                    {EventKind::ALL.iter().map(|&k| {
                        let p = prediction.p(k);
                        view! {
                            <div class="bar" class:top=prediction.next == k data-kind=k.as_str() data-p=p.to_string()>
                                <span class="label">{k.as_str()}</span>
                                <span class="track"><span class=format!("fill {}", kind_class(k)) style:width=format!("{:.1}%", p * 100.0)></span></span>
                                <span class="value">{pct(p)}</span>
                            </div>
                        }
                    }).collect_view()}
                </div>
                <p class="verdict">"Most likely: " <strong>{prediction.next.as_str()}</strong> {format!(" ({:.0} % confident)", prediction.confidence * 100.0)}</p>
                <ChurnLine events=events prediction=prediction threshold=state.threshold.get() model=state.model.get()/>
                <p class="meta" id="latency" data-ms=millis.to_string()>{format!("Predicted in {millis:.2} ms by {name} ({kb:.0} KB), on this device.")}</p>
            }.into_any()
        }
    }
}
