//! A shopper's live session as a plain type: observe events one at a time, keep the last
//! `WINDOW`, predict after each, and report churn-risk crossings (once per crossing).
//! The JS `Session` and the `<next-event-predictor>` element are thin wrappers over this.

use std::collections::VecDeque;

use crate::core::error::{Error, Result};
use crate::core::event::{check_order, Event};
use crate::core::outlook::Outlook;
use crate::core::predict::Predictor;
use crate::core::spec::WINDOW;

/// One observed event's result: the outlook, and whether this event crossed into risk.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    pub outlook: Outlook,
    /// True only on the event where P(purchase) fell below the threshold (not while it stays
    /// below): the moment to fire `nextevent:churn-risk`.
    pub entered_risk: bool,
}

/// A live session: the last `WINDOW` events and the current risk state.
#[derive(Debug, Clone)]
pub struct LiveSession {
    events: VecDeque<Event>,
    threshold: f32,
    at_risk: bool,
    observed: usize,
}

impl LiveSession {
    pub fn new(threshold: f32) -> Self {
        LiveSession {
            events: VecDeque::with_capacity(WINDOW + 1),
            threshold,
            at_risk: false,
            observed: 0,
        }
    }

    pub fn threshold(&self) -> f32 {
        self.threshold
    }

    /// Changes the threshold; the next observation compares against it.
    pub fn set_threshold(&mut self, t: f32) {
        self.threshold = t;
    }

    /// The kept events, oldest first (at most `WINDOW`).
    pub fn history(&self) -> impl Iterator<Item = &Event> {
        self.events.iter()
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
        self.at_risk = false;
        self.observed = 0;
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
        self.events.push_back(event);
        let dropped = if self.events.len() > WINDOW {
            self.events.pop_front()
        } else {
            None
        };
        let window: Vec<Event> = self.events.iter().cloned().collect();
        let outlook = match Outlook::of(predictor, &window, self.threshold, false) {
            Ok(o) => o,
            Err(e) => {
                // Leave the session as it was.
                self.events.pop_back();
                if let Some(d) = dropped {
                    self.events.push_front(d);
                }
                return Err(e);
            }
        };
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
        let mut s = LiveSession::new(0.1);
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
        let mut s = LiveSession::new(1.0);
        let first = s.observe(&p, ev(0, EventKind::View, "a")).unwrap();
        let second = s.observe(&p, ev(5, EventKind::View, "a")).unwrap();
        assert!(first.entered_risk && first.outlook.churn_risk);
        assert!(!second.entered_risk && second.outlook.churn_risk);
        // Threshold 0: never at risk; raising it again re-arms the crossing.
        s.set_threshold(0.0);
        let o = s.observe(&p, ev(9, EventKind::Cart, "a")).unwrap();
        assert!(!o.entered_risk && !o.outlook.churn_risk && !s.at_risk());
        s.set_threshold(1.0);
        assert!(
            s.observe(&p, ev(12, EventKind::Cart, "a"))
                .unwrap()
                .entered_risk
        );
    }

    #[test]
    fn a_bad_event_leaves_the_session_unchanged_and_usable() {
        let p = Predictor::embedded().unwrap();
        let mut s = LiveSession::new(0.1);
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
}
