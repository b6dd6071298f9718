//! A shopper's live session as a plain type: observe events one at a time, keep the last
//! `WINDOW`, predict after each, and report churn-risk crossings (once per crossing).
//! The JS `Session` and the `<next-event-predictor>` element are thin wrappers over this.

use std::collections::VecDeque;

use crate::core::error::{Error, Result};
use crate::core::event::{check_order, Event};
use crate::core::outlook::Outlook;
use crate::core::predict::Predictor;
use crate::core::spec::WINDOW;
use crate::core::visit::VisitState;

/// One observed event's result: the outlook, and whether this event crossed into risk.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    pub outlook: Outlook,
    /// True only on the event where the visit fell below its threshold (not while it stays
    /// below; it re-arms once the visit rises above again): the moment to fire
    /// `nextevent:churn-risk`.
    pub entered_risk: bool,
}

/// A live session: the last `WINDOW` events, the visit's stage state (from every event of the
/// visit, not only the window) and the current risk state.
#[derive(Debug, Clone)]
pub struct LiveSession {
    events: VecDeque<Event>,
    visit: VisitState,
    /// One threshold for every stage, set by the page; `None`: the model's defaults.
    threshold: Option<f32>,
    at_risk: bool,
    observed: usize,
}

/// A live session as it is kept between pages (versioned by the page that stores it).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Snapshot {
    pub events: Vec<Event>,
    pub visit: VisitState,
    pub at_risk: bool,
    pub observed: usize,
}

impl LiveSession {
    /// `threshold`: one value for every stage, or `None` for the model's per-stage defaults.
    pub fn new(threshold: Option<f32>) -> Self {
        LiveSession {
            events: VecDeque::with_capacity(WINDOW + 1),
            visit: VisitState::default(),
            threshold,
            at_risk: false,
            observed: 0,
        }
    }

    pub fn threshold(&self) -> Option<f32> {
        self.threshold
    }

    /// Changes the threshold; the next observation compares against it.
    pub fn set_threshold(&mut self, t: Option<f32>) {
        self.threshold = t;
    }

    /// The kept events, oldest first (at most `WINDOW`).
    pub fn history(&self) -> impl Iterator<Item = &Event> {
        self.events.iter()
    }

    /// The visit's stage state.
    pub fn visit(&self) -> &VisitState {
        &self.visit
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Events observed since creation or the last `clear`, including those dropped from the window.
    pub fn observed(&self) -> usize {
        self.observed
    }

    pub fn at_risk(&self) -> bool {
        self.at_risk
    }

    pub fn clear(&mut self) {
        self.events.clear();
        self.visit = VisitState::default();
        self.at_risk = false;
        self.observed = 0;
    }

    /// The session to keep across a page navigation.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            events: self.events.iter().cloned().collect(),
            visit: self.visit.clone(),
            at_risk: self.at_risk,
            observed: self.observed,
        }
    }

    /// A session restored from a kept snapshot, validated like any input (events valid and
    /// in time order, at most a window of them, counts that fit): a tampered or corrupt
    /// snapshot is an error naming what is wrong, never a partial session. The risk state
    /// comes back too, so a navigation is not a new crossing.
    pub fn restore(snapshot: Snapshot, threshold: Option<f32>) -> Result<Self> {
        if snapshot.events.len() > WINDOW {
            return Err(Error::Payload(format!(
                "stored session has {} events; at most {WINDOW} are kept",
                snapshot.events.len()
            )));
        }
        if snapshot.observed < snapshot.events.len() {
            return Err(Error::Payload(format!(
                "stored session says {} events were observed but keeps {}",
                snapshot.observed,
                snapshot.events.len()
            )));
        }
        if snapshot.visit.in_cart.len() > crate::core::visit::MAX_CART_PRODUCTS {
            return Err(Error::Payload("stored session's cart is too large".into()));
        }
        crate::core::event::validate_sequence(&snapshot.events)?;
        Ok(LiveSession {
            events: snapshot.events.into_iter().collect(),
            visit: snapshot.visit,
            threshold,
            at_risk: snapshot.at_risk,
            observed: snapshot.observed,
        })
    }

    /// Adds one event and predicts. On error (invalid event, earlier than the last one) the
    /// session is unchanged. The error's index is the event's position in the session.
    pub fn observe(&mut self, predictor: &Predictor, event: Event) -> Result<Observation> {
        let index = self.observed;
        event.validate(index)?;
        if let Some(last) = self.events.back() {
            check_order(last.time_ms, event.time_ms)
                .map_err(|r| Error::event(index, "event_time", r))?;
        }
        let mut visit = self.visit.clone();
        visit.observe(&event);
        let mut window: Vec<Event> = self.events.iter().cloned().collect();
        window.push(event);
        if window.len() > WINDOW {
            window.remove(0);
        }
        // Predict first: on error nothing has changed.
        let outlook = Outlook::of(predictor, &window, Some(&visit), self.threshold, false)?;
        self.events = window.into_iter().collect();
        self.visit = visit;
        self.observed += 1;
        let entered_risk = outlook.churn_risk && !self.at_risk;
        self.at_risk = outlook.churn_risk;
        Ok(Observation {
            outlook,
            entered_risk,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::event::EventKind;
    use crate::core::outlook::check_threshold;
    use std::sync::Arc;

    fn ev(t: i64, kind: EventKind, brand: &str) -> Event {
        Event {
            time_ms: 1_570_000_000_000 + t * 1000,
            kind,
            product_id: 5_802_432,
            brand: Some(Arc::from(brand)),
            price: 4.05,
            category_code: None,
        }
    }

    #[test]
    fn observe_keeps_the_window_and_matches_a_direct_prediction() {
        let p = Predictor::embedded().unwrap();
        let mut s = LiveSession::new(Some(0.1));
        let mut all = Vec::new();
        for t in 0..(WINDOW as i64 + 5) {
            let kind = EventKind::ALL[(t % 3) as usize];
            let e = ev(t * 10, kind, "runail");
            all.push(e.clone());
            let o = s.observe(&p, e).unwrap();
            let tail = &all[all.len().saturating_sub(WINDOW)..];
            let want = p.predict(tail).unwrap();
            assert_eq!(o.outlook.probabilities, (&want).into());
            assert_eq!(o.outlook.favourite_brand.as_deref(), Some("runail"));
        }
        assert_eq!(s.len(), WINDOW);
        assert_eq!(s.observed(), WINDOW + 5);
        assert_eq!(s.history().next().unwrap(), &all[5]);
    }

    #[test]
    fn churn_risk_fires_once_per_crossing() {
        let p = Predictor::embedded().unwrap();
        // Threshold 1.0: always at risk → only the first observation enters risk.
        let mut s = LiveSession::new(Some(1.0));
        let first = s.observe(&p, ev(0, EventKind::View, "a")).unwrap();
        let second = s.observe(&p, ev(5, EventKind::View, "a")).unwrap();
        assert!(first.entered_risk && first.outlook.churn_risk);
        assert!(!second.entered_risk && second.outlook.churn_risk);
        // Threshold 0: never at risk; raising it again re-arms the crossing.
        s.set_threshold(Some(0.0));
        let o = s.observe(&p, ev(9, EventKind::Cart, "a")).unwrap();
        assert!(!o.entered_risk && !o.outlook.churn_risk && !s.at_risk());
        s.set_threshold(Some(1.0));
        assert!(
            s.observe(&p, ev(12, EventKind::Cart, "a"))
                .unwrap()
                .entered_risk
        );
    }

    #[test]
    fn a_bad_event_leaves_the_session_unchanged_and_usable() {
        let p = Predictor::embedded().unwrap();
        let mut s = LiveSession::new(Some(0.1));
        s.observe(&p, ev(10, EventKind::View, "a")).unwrap();
        let mut bad = ev(20, EventKind::Cart, "a");
        bad.price = f32::NAN;
        let e = s.observe(&p, bad).unwrap_err().to_string();
        assert!(e.contains("event 1") && e.contains("price"), "{e}");
        let e = s
            .observe(&p, ev(0, EventKind::Cart, "a"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("event_time") && e.contains("earlier"), "{e}");
        assert_eq!((s.len(), s.observed()), (1, 1));
        assert!(s.observe(&p, ev(30, EventKind::Cart, "a")).is_ok());
        s.clear();
        assert!(s.is_empty() && !s.at_risk());
        assert!(check_threshold(f64::NAN).is_err() && check_threshold(1.5).is_err());
        assert_eq!(check_threshold(0.25).unwrap(), 0.25);
    }

    #[test]
    fn the_stage_sees_the_whole_visit_and_a_snapshot_restores_it() {
        let p = Predictor::embedded().unwrap();
        let mut s = LiveSession::new(None);
        let first = s.observe(&p, ev(0, EventKind::Cart, "a")).unwrap();
        assert_eq!(first.outlook.stage, "cart");
        for t in 1..=(WINDOW as i64 + 4) {
            let mut v = ev(t * 10, EventKind::View, "a");
            v.product_id = 1 + t as u64;
            s.observe(&p, v).unwrap();
        }
        // The cart event left the window long ago; the visit still has it in the cart.
        assert!(s.history().all(|e| e.kind == EventKind::View));
        assert_eq!(s.visit().stage(), crate::core::visit::Stage::Cart);
        let snap = s.snapshot();
        let json = serde_json::to_string(&snap).unwrap();
        let back = LiveSession::restore(serde_json::from_str(&json).unwrap(), None).unwrap();
        assert_eq!(back.snapshot(), snap);
        assert_eq!(back.at_risk(), s.at_risk());
        // Tampered: out of order, too many events, counts that do not fit.
        let mut bad = snap.clone();
        bad.events.swap(0, 3);
        let e = LiveSession::restore(bad, None).unwrap_err().to_string();
        assert!(e.contains("earlier"), "{e}");
        let mut bad = snap.clone();
        bad.observed = 2;
        assert!(LiveSession::restore(bad, None).is_err());
        let mut bad = snap;
        bad.events.extend(bad.events.clone());
        assert!(LiveSession::restore(bad, None)
            .unwrap_err()
            .to_string()
            .contains("at most 16"));
    }
}
