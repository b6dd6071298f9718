//! The sequence editor: example buttons, the events table with per-row errors, add / clear /
//! replay actions, and pasting Kaggle CSV rows (logic in [`crate::browser::rows`]).

use leptos::prelude::*;

use super::influence::Strip;
use super::State;
use crate::browser::examples::{examples, known_brands, real_sessions};
use crate::browser::replay::Replay;
use crate::browser::rows::{move_row, next_row, paste_rows, Row};
use crate::core::event::EventKind;

#[component]
pub fn Sequence(state: State) -> impl IntoView {
    let real = real_sessions();
    view! {
        <section aria-labelledby="seq-h" class="sequence">
            <h2 id="seq-h">"Events so far (oldest first)"</h2>
            <div class="examples" role="group" aria-label="Example sessions">
                <span class="group-label">"Examples:"</span>
                {examples().into_iter().map(|(name, ex)| {
                    view! { <button class="example" on:click=move |_| state.load(ex.clone())>{name}</button> }
                }).collect_view()}
            </div>
            {(!real.is_empty()).then(|| view! {
                <div class="examples real" role="group" aria-label="Real sessions from the shop's data">
                    <span class="group-label">"Real sessions:"</span>
                    {real.into_iter().map(|(name, ex)| {
                        view! { <button class="example real" on:click=move |_| state.load(ex.clone())>{name}</button> }
                    }).collect_view()}
                </div>
            })}
            <Strip state=state/>
            <EventsTable state=state/>
            <datalist id="brands">
                {known_brands().iter().map(|b| view! { <option value=*b></option> }).collect_view()}
            </datalist>
            <Actions state=state/>
            <Paste state=state/>
        </section>
    }
}

/// The rows, each editable, with its error (if any) in a row below it.
#[component]
fn EventsTable(state: State) -> impl IntoView {
    let rows = state.rows;
    let edit = move |i: usize, f: fn(&mut Row, String)| {
        move |ev: leptos::ev::Event| {
            let v = event_target_value(&ev);
            rows.update(|rs| {
                if let Some(r) = rs.get_mut(i) {
                    f(r, v)
                }
            })
        }
    };
    view! {
        <table id="events">
            <thead><tr><th>"#"</th><th>"Event"</th><th>"Product"</th><th>"Brand"</th><th>"Price"</th><th>"Time (UTC)"</th><th><span class="sr-only">"Actions"</span></th></tr></thead>
            <tbody>
            {move || rows.get().into_iter().enumerate().map(|(i, r)| {
                let n = i + 1;
                let issue = state.outcome.with(|o| o.issue_of(i));
                view! {
                    <tr class:invalid=issue.is_some() data-row=i>
                        <td>{n}</td>
                        <td><select aria-label=format!("Event {n} type") class="kind" on:change=edit(i, |r, v| r.kind = v)>
                            {EventKind::ALL.iter().map(|k| view! { <option value=k.as_str() selected=r.kind == k.as_str()>{k.as_str()}</option> }).collect_view()}
                        </select></td>
                        <td><input aria-label=format!("Event {n} product id") class="product" inputmode="numeric" prop:value=r.product_id.clone() on:change=edit(i, |r, v| r.product_id = v)/></td>
                        <td><input aria-label=format!("Event {n} brand") class="brand" list="brands" prop:value=r.brand.clone() on:change=edit(i, |r, v| r.brand = v)/></td>
                        <td><input aria-label=format!("Event {n} price") class="price" inputmode="decimal" prop:value=r.price.clone() on:change=edit(i, |r, v| r.price = v)/></td>
                        <td><input aria-label=format!("Event {n} time") class="time" type="datetime-local" step="1" prop:value=r.time.clone() on:change=edit(i, |r, v| r.time = v)/></td>
                        <td class="row-actions">
                            <button class="up" aria-label=format!("Move event {n} up") on:click=move |_| rows.update(|rs| { move_row(rs, i, true); })>"↑"</button>
                            <button class="down" aria-label=format!("Move event {n} down") on:click=move |_| rows.update(|rs| { move_row(rs, i, false); })>"↓"</button>
                            <button class="remove" aria-label=format!("Remove event {n}") on:click=move |_| rows.update(|rs| { if i < rs.len() { rs.remove(i); } })>"✕"</button>
                        </td>
                    </tr>
                    {issue.map(|m| view! { <tr class="issue"><td></td><td colspan="6" role="alert" class="row-error">{format!("Event {n}: {m}")}</td></tr> })}
                }
            }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn Actions(state: State) -> impl IntoView {
    let start_replay = move |_| {
        let p = state.model.get_untracked();
        if let Some(r) = Replay::start(&p, state.rows.get_untracked()) {
            state.rows.set(r.shown());
            state.replay.set(Some(r));
        }
    };
    view! {
        <div class="actions">
            <button id="add" on:click=move |_| state.rows.update(|rs| { let r = next_row(rs); rs.push(r); })>"Add event"</button>
            <button id="clear" on:click=move |_| state.load(Vec::new())>"Clear"</button>
            <button id="replay-start" on:click=start_replay
                disabled=move || state.replay.get().is_some() || state.outcome.with(|o| o.ready_events()) < 2>
                "Replay step by step"</button>
        </div>
    }
}

/// Pasting rows: a text area, a button, and what was loaded and rejected (line, field, reason).
#[component]
fn Paste(state: State) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let report = RwSignal::new(None::<(usize, Vec<String>)>);
    let paste = move |_| {
        let pasted = paste_rows(&text.get_untracked());
        let n = pasted.rows.len();
        if n > 0 {
            state.load(pasted.rows);
        }
        report.set(Some((n, pasted.rejected)));
    };
    view! {
        <details id="paste">
            <summary>"Paste rows in the Kaggle CSV format"</summary>
            <label for="paste-text" class="meta">"event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session — header optional"</label>
            <textarea id="paste-text" rows="5" spellcheck="false"
                placeholder="2019-10-01 00:00:00 UTC,cart,5773203,1487580005134238464,,runail,2.62,463240011,26dd6e6e"
                prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))></textarea>
            <button id="paste-load" on:click=paste>"Use these rows"</button>
            {move || report.get().map(|(n, rejected)| {
                let r = rejected.len();
                view! {
                <div id="paste-report" role="status" data-loaded=n data-rejected=r>
                    <p>{format!("Loaded {n} event{}; rejected {r} line{}.", if n == 1 { "" } else { "s" }, if r == 1 { "" } else { "s" })}</p>
                    <ul class="row-error">{rejected.into_iter().map(|r| view! { <li>{r}</li> }).collect_view()}</ul>
                </div>
            }})}
        </details>
    }
}
