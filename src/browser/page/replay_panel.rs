//! The replay stepper: where we are, what the model said, what the shopper did next, and the
//! whole session's predictions as a timeline (logic in [`crate::browser::replay`]).

use leptos::prelude::*;

use super::{kind_class, State};
use crate::browser::replay::Replay;
use crate::core::event::EventKind;

#[component]
pub fn ReplayPanel(replay: Replay, state: State) -> impl IntoView {
    let step_to = move |delta: isize| {
        state.replay.update(|r| {
            if let Some(r) = r {
                state.rows.set(r.step(delta));
            }
        })
    };
    let exit = move |_| {
        if let Some(r) = state.replay.get_untracked() {
            state.rows.set(r.rows);
        }
        state.replay.set(None);
    };
    let n = replay.rows.len();
    let at = replay.at;
    let step = replay.current().clone();
    let (hits, judged) = replay.score();
    let actual = match step.actual {
        Some(k) => format!(
            "Actually next: {} ({})",
            k.as_str(),
            if step.hit() == Some(true) {
                "as predicted"
            } else {
                "not the top guess"
            }
        ),
        None => "The session ends here.".to_string(),
    };
    view! {
        <div id="replay" role="region" aria-label="Replay" data-at=at data-steps=n>
            <h3>{format!("Replay: {at} of {n} events shown")}</h3>
            <div class="actions">
                <button id="replay-prev" disabled={at <= 1} on:click=move |_| step_to(-1)>"◀ Previous"</button>
                <button id="replay-next" disabled={at >= n} on:click=move |_| step_to(1)>"Next ▶"</button>
                <button id="replay-exit" on:click=exit>"End replay"</button>
            </div>
            <p id="replay-actual" data-actual=step.actual.map_or("end", |k| k.as_str()) class:hit=step.hit() == Some(true)>{actual}</p>
            <ol class="timeline" aria-label="Predicted next event after each step">
                {replay.steps.iter().map(|s| view! {
                    <li class:current=s.seen == at class:hit=s.hit() == Some(true) title=format!("After event {}: {} {:.0} %; actually {}", s.seen, s.prediction.next.as_str(), s.prediction.confidence * 100.0, s.actual.map_or("end", |k| k.as_str()))>
                        <span class="stack">
                            {EventKind::ALL.iter().map(|&k| view! { <span class=kind_class(k) style:height=format!("{:.1}%", s.prediction.p(k) * 100.0)></span> }).collect_view()}
                        </span>
                        <span class="actual">{s.actual.map_or("·", |k| &k.as_str()[..1])}</span>
                    </li>
                }).collect_view()}
            </ol>
            <p class="meta">{format!("Top guess right {hits} of {judged} times in this session. Letters: what happened next (v view, c cart, r remove, p purchase).")}</p>
            <p class="legend">{EventKind::ALL.iter().map(|&k| view! { <span class="key"><span class=format!("swatch {}", kind_class(k))></span>{k.as_str()}</span> }).collect_view()}</p>
        </div>
    }
}
