//! What the demo shows for the current rows, as plain types: a prediction with its latency and
//! per-event influence, or why there is none; and what happened to a model file the visitor
//! picked. The page renders these; the logic is tested natively.

use crate::browser::rows::{rows_to_events, Row, RowIssue};
use crate::core::event::Event;
use crate::core::insight;
use crate::core::predict::{Prediction, Predictor, MAX_MODEL_BYTES};

/// The prediction panel's state for the current rows.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Empty,
    Issues(Vec<RowIssue>),
    Failed(String),
    Ready {
        prediction: Prediction,
        millis: f64,
        events: Vec<Event>,
        /// Per event: change in P(purchase) when it is left out (see [`insight::influence`]).
        influence: Vec<f32>,
    },
}

impl Outcome {
    /// Predicts on `rows` with `predictor`; `clock` gives milliseconds (the page's
    /// `performance.now()`), to time the prediction alone.
    pub fn of(predictor: &Predictor, rows: &[Row], clock: impl Fn() -> f64) -> Outcome {
        let (events, issues) = rows_to_events(rows);
        if !issues.is_empty() {
            return Outcome::Issues(issues);
        }
        if events.is_empty() {
            return Outcome::Empty;
        }
        let t = clock();
        let prediction = match predictor.predict(&events) {
            Ok(x) => x,
            Err(e) => return Outcome::Failed(e.to_string()),
        };
        let millis = clock() - t;
        match insight::influence(predictor, &events, &prediction) {
            Ok(influence) => Outcome::Ready {
                prediction,
                millis,
                events,
                influence,
            },
            Err(e) => Outcome::Failed(e.to_string()),
        }
    }

    /// The problem with row `i`, as `field: reason`.
    pub fn issue_of(&self, i: usize) -> Option<String> {
        match self {
            Outcome::Issues(list) => list
                .iter()
                .find(|x| x.row == i)
                .map(|x| format!("{}: {}", x.field, x.reason)),
            _ => None,
        }
    }

    /// Events of a ready prediction (the replay needs two or more).
    pub fn ready_events(&self) -> usize {
        match self {
            Outcome::Ready { events, .. } => events.len(),
            _ => 0,
        }
    }
}

/// The outcome of loading a model file, shown under the file input.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelStatus {
    pub ok: bool,
    pub message: String,
}

impl ModelStatus {
    pub fn loaded(source: &str, p: &Predictor) -> Self {
        ModelStatus {
            ok: true,
            message: format!(
                "Loaded {source}: {} ({:.0} KB). Predictions now use it.",
                p.info().name,
                p.size_bytes() as f64 / 1024.0
            ),
        }
    }
    pub fn refused(source: &str, why: &str, current: &Predictor) -> Self {
        ModelStatus {
            ok: false,
            message: format!(
                "{source} was not loaded: {why}. Still using {}.",
                current.info().name
            ),
        }
    }
}

/// Refuses a model file larger than [`MAX_MODEL_BYTES`] before reading it.
pub fn check_model_file_size(size: f64) -> Result<(), String> {
    if size > MAX_MODEL_BYTES as f64 {
        Err(format!(
            "the file is {:.1} MB; models larger than {} MB are refused",
            size / 1e6,
            MAX_MODEL_BYTES / 1_000_000
        ))
    } else {
        Ok(())
    }
}

/// A percentage with one decimal (`12.3 %`).
pub fn pct(p: f32) -> String {
    format!("{:.1} %", p * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::browser::examples::examples;

    #[test]
    fn outcome_of_rows_predicts_or_says_why_not() {
        let p = Predictor::embedded().unwrap();
        let rows = examples()[0].1.clone();
        match Outcome::of(&p, &rows, || 0.0) {
            Outcome::Ready {
                prediction,
                events,
                influence,
                ..
            } => {
                assert_eq!(prediction, p.predict(&events).unwrap());
                assert_eq!(influence.len(), rows.len());
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(Outcome::of(&p, &[], || 0.0), Outcome::Empty);
        let mut bad = rows.clone();
        bad[1].price = "x".into();
        let o = Outcome::of(&p, &bad, || 0.0);
        assert!(o.issue_of(1).unwrap().starts_with("price: "), "{o:?}");
        assert_eq!(o.issue_of(0), None);
        assert_eq!(o.ready_events(), 0);
        assert!(check_model_file_size(65e6).unwrap_err().contains("64 MB"));
        assert!(check_model_file_size(1e3).is_ok());
        let s = ModelStatus::refused("x.onnx", "bad", &p);
        assert!(
            !s.ok
                && s.message
                    .starts_with("x.onnx was not loaded: bad. Still using ")
        );
        assert_eq!(pct(0.1234), "12.3 %");
    }
}
