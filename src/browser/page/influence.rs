//! The "why" strip above the events: each event's effect on P(purchase) when left out.

use leptos::prelude::*;

use super::State;
use crate::browser::outcome::Outcome;

#[component]
pub fn Strip(state: State) -> impl IntoView {
    view! {
        <div id="influence" role="img" aria-label="Influence of each event on the purchase probability">
            {move || match state.outcome.get() {
                Outcome::Ready { influence, .. } if influence.len() > 1 => {
                    let max = influence.iter().fold(0.02f32, |m, d| m.max(d.abs()));
                    view! {
                        <span class="group-label">"Why — each event's effect on P(purchase):"</span>
                        <ol class="strip">
                        {influence.into_iter().enumerate().map(|(i, d)| {
                            let a = (d.abs() / max).min(1.0);
                            let colour = if d >= 0.0 { format!("rgba(6,118,71,{a:.2})") } else { format!("rgba(180,35,24,{a:.2})") };
                            view! {
                                <li class="cell" data-event=i data-delta=d.to_string() style:background=colour
                                    title=format!("Event {}: {:+.1} points of P(purchase)", i + 1, d * 100.0)>
                                    <span class="n">{i + 1}</span>
                                    <span class="d">{format!("{:+.1}", d * 100.0)}</span>
                                </li>
                            }
                        }).collect_view()}
                        </ol>
                    }.into_any()
                }
                _ => ().into_any(),
            }}
        </div>
    }
}
