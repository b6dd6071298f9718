//! The demo's replay as a plain type: the prediction after each prefix of a session, paired
//! with what the shopper actually did next.

use crate::browser::rows::{rows_to_events, Row};
use crate::core::error::Result;
use crate::core::event::{Event, EventKind};
use crate::core::predict::{Prediction, Predictor};

/// One step of a replay: the prediction after the first `seen` events, and what the shopper
/// actually did next (`None` after the last event).
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayStep {
    pub seen: usize,
    pub prediction: Prediction,
    pub actual: Option<EventKind>,
}

impl ReplayStep {
    /// Whether the top prediction was what happened (`None` when nothing followed).
    pub fn hit(&self) -> Option<bool> {
        self.actual.map(|a| a == self.prediction.next)
    }
}

/// Steps through a session: after each prefix, what the model predicted and what came next.
pub fn replay(predictor: &Predictor, events: &[Event]) -> Result<Vec<ReplayStep>> {
    let prefixes: Vec<&[Event]> = (1..=events.len()).map(|k| &events[..k]).collect();
    let preds = predictor.predict_batch(&prefixes)?;
    Ok(preds
        .into_iter()
        .enumerate()
        .map(|(i, prediction)| ReplayStep {
            seen: i + 1,
            prediction,
            actual: events.get(i + 1).map(|e| e.kind),
        })
        .collect())
}

/// A replay in progress: the whole session's rows, its steps, and how many events are shown.
#[derive(Debug, Clone, PartialEq)]
pub struct Replay {
    pub rows: Vec<Row>,
    pub steps: Vec<ReplayStep>,
    /// Events shown, 1..=rows.len().
    pub at: usize,
}

impl Replay {
    /// Starts at the first event; `None` when the rows have issues or fewer than two events.
    pub fn start(predictor: &Predictor, rows: Vec<Row>) -> Option<Replay> {
        let (events, issues) = rows_to_events(&rows);
        if !issues.is_empty() || events.len() < 2 {
            return None;
        }
        let steps = replay(predictor, &events).ok()?;
        Some(Replay { rows, steps, at: 1 })
    }

    /// Moves `delta` events forwards or backwards (clamped) and returns the rows now shown.
    pub fn step(&mut self, delta: isize) -> Vec<Row> {
        self.at = (self.at as isize + delta).clamp(1, self.rows.len() as isize) as usize;
        self.shown()
    }

    /// The rows shown at this step.
    pub fn shown(&self) -> Vec<Row> {
        self.rows[..self.at].to_vec()
    }

    /// The current step.
    pub fn current(&self) -> &ReplayStep {
        &self.steps[self.at - 1]
    }

    /// (right top guesses, steps with a next event to judge).
    pub fn score(&self) -> (usize, usize) {
        let hits = self.steps.iter().filter(|s| s.hit() == Some(true)).count();
        let judged = self.steps.iter().filter(|s| s.hit().is_some()).count();
        (hits, judged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::browser::examples::examples;
    use crate::browser::rows::rows_to_events;

    #[test]
    fn replay_predicts_each_prefix_and_pairs_it_with_what_came_next() {
        let p = Predictor::embedded().unwrap();
        let (events, _) = rows_to_events(&examples()[3].1);
        let steps = replay(&p, &events).unwrap();
        assert_eq!(steps.len(), events.len());
        for (k, s) in steps.iter().enumerate() {
            assert_eq!(s.seen, k + 1);
            // replay runs one batch; a lone prediction runs the batch-1 plan, whose kernels
            // may round differently in the last bits.
            let alone = p.predict(&events[..=k]).unwrap();
            for (a, b) in s.prediction.probabilities.iter().zip(alone.probabilities) {
                assert!((a - b).abs() < 1e-6, "step {k}: {a} vs {b}");
            }
            assert_eq!(s.prediction.next, alone.next);
            assert_eq!(s.actual, events.get(k + 1).map(|e| e.kind));
        }
        assert_eq!(steps.last().unwrap().hit(), None);
        assert!(replay(&p, &[]).unwrap().is_empty());
    }

    #[test]
    fn a_replay_steps_within_the_session() {
        let p = Predictor::embedded().unwrap();
        let rows = examples()[3].1.clone();
        let mut r = Replay::start(&p, rows.clone()).unwrap();
        assert_eq!((r.at, r.shown().len()), (1, 1));
        assert_eq!(r.step(-1).len(), 1);
        assert_eq!(r.step(10).len(), rows.len());
        assert_eq!(r.current().seen, rows.len());
        assert_eq!(r.score().1, rows.len() - 1);
        assert!(Replay::start(&p, rows[..1].to_vec()).is_none());
    }
}
