//! Non-neural baselines: majority class, "the next event repeats the last one" (a rule with
//! no parameters), and last-event Markov chains of order 1 and 2 fitted on training windows
//! with add-one smoothing, backing off to shorter contexts for contexts never seen.

use std::collections::HashMap;

use crate::core::event::{Event, EventKind};

/// A baseline that maps a window to next-kind probabilities.
#[derive(Debug, Clone)]
pub enum Baseline {
    /// Always the training class frequencies.
    Majority([f32; 4]),
    /// The next event's kind is the last event's: a hard rule, all probability on one kind,
    /// so it has accuracy and macro-F1 but no finite log loss.
    RepeatLast,
    /// P(next | last `order` kinds), falling back to shorter contexts when unseen.
    Markov {
        order: usize,
        table: HashMap<Vec<EventKind>, [f32; 4]>,
        prior: [f32; 4],
    },
}

fn normalise(c: [f64; 4]) -> [f32; 4] {
    let s: f64 = c.iter().sum::<f64>().max(1e-12);
    c.map(|x| (x / s) as f32)
}

impl Baseline {
    pub fn name(&self) -> String {
        match self {
            Baseline::Majority(_) => "majority class".into(),
            Baseline::RepeatLast => "repeat the last kind".into(),
            Baseline::Markov { order, .. } => format!("last-event Markov (order {order})"),
        }
    }

    /// Class frequencies of the training windows.
    pub fn majority<'a>(windows: impl Iterator<Item = (&'a [Event], EventKind)>) -> Self {
        let mut c = [0.0f64; 4];
        for (_, y) in windows {
            c[y.index()] += 1.0;
        }
        Baseline::Majority(normalise(c))
    }

    /// Markov chain of the given order over event kinds.
    pub fn markov<'a>(
        order: usize,
        windows: impl Iterator<Item = (&'a [Event], EventKind)> + Clone,
    ) -> Self {
        let mut counts: HashMap<Vec<EventKind>, [f64; 4]> = HashMap::new();
        let mut prior = [1.0f64; 4];
        for (w, y) in windows {
            prior[y.index()] += 1.0;
            for o in 1..=order.min(w.len()) {
                let ctx: Vec<EventKind> = w[w.len() - o..].iter().map(|e| e.kind).collect();
                counts.entry(ctx).or_insert([1.0; 4])[y.index()] += 1.0;
            }
        }
        let table = counts.into_iter().map(|(k, v)| (k, normalise(v))).collect();
        Baseline::Markov {
            order,
            table,
            prior: normalise(prior),
        }
    }

    /// Whether the baseline is a hard rule (no probabilities worth a log loss).
    pub fn is_hard(&self) -> bool {
        matches!(self, Baseline::RepeatLast)
    }

    pub fn predict(&self, w: &[Event]) -> [f32; 4] {
        match self {
            Baseline::Majority(p) => *p,
            Baseline::RepeatLast => {
                let mut p = [0.0; 4];
                if let Some(e) = w.last() {
                    p[e.kind.index()] = 1.0;
                }
                p
            }
            Baseline::Markov {
                order,
                table,
                prior,
            } => {
                for o in (1..=(*order).min(w.len())).rev() {
                    let ctx: Vec<EventKind> = w[w.len() - o..].iter().map(|e| e.kind).collect();
                    if let Some(p) = table.get(&ctx) {
                        return *p;
                    }
                }
                *prior
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markov_learns_transitions() {
        let mk = |k| Event {
            time_ms: 0,
            kind: k,
            product_id: 0,
            brand: None,
            price: 1.0,
            category_code: None,
        };
        let s = [
            mk(EventKind::View),
            mk(EventKind::Cart),
            mk(EventKind::View),
            mk(EventKind::Cart),
        ];
        let windows: Vec<(&[Event], EventKind)> =
            (1..s.len()).map(|k| (&s[..k], s[k].kind)).collect();
        let m = Baseline::markov(1, windows.iter().cloned());
        let p = m.predict(&s[..1]);
        assert_eq!(crate::data::metrics::argmax(&p), 1, "{p:?}");
        assert!(p[1] >= 0.5, "{p:?}");
        let maj = Baseline::majority(windows.iter().cloned());
        assert_eq!(crate::data::metrics::argmax(&maj.predict(&s)), 1);
        assert_eq!(Baseline::RepeatLast.predict(&s[..2]), [0.0, 1.0, 0.0, 0.0]);
        assert!(Baseline::RepeatLast.is_hard() && !m.is_hard());
    }
}
