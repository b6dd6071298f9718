//! The demo page (wasm32 only): a thin Leptos layer over [`crate::demo`], the predictor and
//! [`crate::insight`]. Logic lives in those plain modules; this file only wires the DOM.

use leptos::prelude::*;

use crate::demo::{self, Row, RowIssue};
use crate::event::{Event, EventKind};
use crate::insight;
use crate::predict::{Prediction, Predictor};

/// Mounts the page; called by `main` in the browser.
pub fn start() {
    console_error_panic_hook::set_once();
    if let Some(el) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("loading"))
    {
        el.remove();
    }
    leptos::mount::mount_to_body(App);
}

fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Empty,
    Issues(Vec<RowIssue>),
    Failed(String),
    Ready {
        prediction: Prediction,
        millis: f64,
        events: Vec<Event>,
    },
}

#[component]
fn App() -> impl IntoView {
    let t0 = now_ms();
    let loaded = Predictor::embedded();
    let load_ms = now_ms() - t0;
    match loaded {
        Ok(p) => view! { <Demo predictor=p load_ms=load_ms/> }.into_any(),
        Err(e) => view! {
            <main>
                <h1>"nextevent"</h1>
                <p class="error" role="alert">"The model could not be loaded: " {e.to_string()}</p>
            </main>
        }
        .into_any(),
    }
}

#[component]
fn Demo(predictor: Predictor, load_ms: f64) -> impl IntoView {
    let info = predictor.info().clone();
    let size_kb = predictor.size_bytes() as f64 / 1024.0;
    let (rows, set_rows) = signal(demo::examples()[0].1.clone());
    let threshold = RwSignal::new(info.churn_threshold);
    let p = predictor.clone();
    let outcome = Memo::new(move |_| {
        let (events, issues) = demo::rows_to_events(&rows.get());
        if !issues.is_empty() {
            return Outcome::Issues(issues);
        }
        if events.is_empty() {
            return Outcome::Empty;
        }
        let t = now_ms();
        match p.predict(&events) {
            Ok(prediction) => Outcome::Ready {
                prediction,
                millis: now_ms() - t,
                events,
            },
            Err(e) => Outcome::Failed(e.to_string()),
        }
    });
    let edit = move |i: usize, f: fn(&mut Row, String)| {
        move |ev: leptos::ev::Event| {
            let v = event_target_value(&ev);
            set_rows.update(|rs| {
                if let Some(r) = rs.get_mut(i) {
                    f(r, v)
                }
            })
        }
    };
    let issue_of = move |i: usize| match outcome.get() {
        Outcome::Issues(list) => list
            .into_iter()
            .find(|x| x.row == i)
            .map(|x| format!("{}: {}", x.field, x.reason)),
        _ => None,
    };

    view! {
        <header>
            <h1>"nextevent"</h1>
            <p class="tagline">"Predicts a shopper's next action in your browser. No data leaves this page."</p>
        </header>
        <main>
            <section aria-labelledby="seq-h">
                <h2 id="seq-h">"Events so far (oldest first)"</h2>
                <div class="examples" role="group" aria-label="Example sessions">
                    {demo::examples().into_iter().map(|(name, ex)| {
                        view! { <button class="example" on:click=move |_| set_rows.set(ex.clone())>{name}</button> }
                    }).collect_view()}
                </div>
                <table id="events">
                    <thead><tr><th>"#"</th><th>"Event"</th><th>"Product"</th><th>"Brand"</th><th>"Price"</th><th>"Time (UTC)"</th><th></th></tr></thead>
                    <tbody>
                    {move || rows.get().into_iter().enumerate().map(|(i, r)| {
                        let n = i + 1;
                        let issue = issue_of(i);
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
                                <td><button class="remove" aria-label=format!("Remove event {n}") on:click=move |_| set_rows.update(|rs| { if i < rs.len() { rs.remove(i); } })>"✕"</button></td>
                            </tr>
                            {issue.map(|m| view! { <tr class="issue"><td></td><td colspan="6" role="alert" class="row-error">{format!("Event {n}: {m}")}</td></tr> })}
                        }
                    }).collect_view()}
                    </tbody>
                </table>
                <datalist id="brands">
                    {["runail", "irisk", "masura", "grattol", "estel", "kapous", "ingarden", "uno", "jessnail", "bpw.style"].map(|b| view! { <option value=b></option> }).collect_view()}
                </datalist>
                <div class="actions">
                    <button id="add" on:click=move |_| set_rows.update(|rs| { let r = demo::next_row(rs); rs.push(r); })>"Add event"</button>
                    <button id="clear" on:click=move |_| set_rows.set(Vec::new())>"Clear"</button>
                </div>
            </section>
            <section aria-labelledby="pred-h" aria-live="polite">
                <h2 id="pred-h">"Next event"</h2>
                {move || match outcome.get() {
                    Outcome::Empty => view! { <p class="hint">"Add an event to see a prediction."</p> }.into_any(),
                    Outcome::Issues(_) => view! { <p class="hint">"Fix the marked events to see a prediction."</p> }.into_any(),
                    Outcome::Failed(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                    Outcome::Ready { prediction, millis, events } => {
                        let risk = insight::intervention(&events, &prediction, threshold.get());
                        view! {
                            <div id="bars" data-next=prediction.next.as_str()>
                                {EventKind::ALL.iter().map(|&k| {
                                    let p = prediction.p(k);
                                    view! {
                                        <div class="bar" class:top=prediction.next == k data-kind=k.as_str() data-p=p.to_string()>
                                            <span class="label">{k.as_str()}</span>
                                            <span class="track"><span class="fill" style=format!("width:{:.1}%", p * 100.0)></span></span>
                                            <span class="value">{format!("{:.1} %", p * 100.0)}</span>
                                        </div>
                                    }
                                }).collect_view()}
                            </div>
                            <p class="verdict">"Most likely: " <strong>{prediction.next.as_str()}</strong> {format!(" ({:.0} % confident)", prediction.confidence * 100.0)}</p>
                            <p id="churn" class:at-risk=risk.at_risk data-at-risk=risk.at_risk.to_string()>{risk.message}</p>
                            <p class="meta">{format!("Predicted in {millis:.2} ms")}</p>
                        }.into_any()
                    }
                }}
                <label class="threshold">"Churn-risk threshold on P(purchase): "
                    <input id="threshold" type="range" min="0" max="1" step="0.01" prop:value=move || threshold.get().to_string()
                        on:input=move |ev| threshold.set(event_target_value(&ev).parse().unwrap_or(0.1))/>
                    <output>{move || format!("{:.2}", threshold.get())}</output>
                </label>
            </section>
            <section aria-labelledby="model-h" class="model">
                <h2 id="model-h">"Model"</h2>
                <p id="model-name">{info.name.clone()} {format!(" — {size_kb:.0} KB, loaded in {load_ms:.0} ms")}</p>
                <p>{info.architecture.clone()}</p>
                <p class="meta">"Trained on: " {info.trained_on.clone()}</p>
                <table class="figures">
                    <thead><tr><th>"Held-out test"</th><th>"accuracy"</th><th>"macro-F1"</th></tr></thead>
                    <tbody>
                        <tr><td>"this model"</td>
                            <td>{info.test_metrics.iter().find(|m| m.0 == "accuracy").map(|m| format!("{:.3}", m.1))}</td>
                            <td>{info.test_metrics.iter().find(|m| m.0 == "macro_f1").map(|m| format!("{:.3}", m.1))}</td></tr>
                        {info.baselines.iter().map(|(n, a, f)| view! { <tr><td>{n.clone()}</td><td>{format!("{a:.3}")}</td><td>{format!("{f:.3}")}</td></tr> }).collect_view()}
                    </tbody>
                </table>
            </section>
        </main>
    }
}
