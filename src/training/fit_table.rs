//! The generator-fit table: real sessions beside generated ones, side by side on the figures
//! that say whether the generator behaves like the shop — the kind transition matrix, gap
//! quantiles per transition, session lengths, purchase bursts, the share of sessions with a
//! purchase, and Markov-1's accuracy (fitted on the real training sessions).

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::core::event::{Event, EventKind};
use crate::data::baseline::Baseline;
use crate::data::metrics::argmax;

/// Figures of one set of sessions.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SessionFigures {
    pub sessions: usize,
    pub events: usize,
    /// `transitions[from][to]`: share of `from`'s next events of kind `to`.
    pub transitions: [[f64; 4]; 4],
    /// Transition counts.
    pub transition_counts: [[usize; 4]; 4],
    /// Median and 90th percentile of the gap in seconds, per transition.
    pub gap_median: [[f64; 4]; 4],
    pub gap_p90: [[f64; 4]; 4],
    /// Share of sessions with 1, 2, 3–5, 6–10, 11+ events.
    pub length_shares: [f64; 5],
    /// Mean length of a run of purchase events, and the share of runs of length 1, 2–3, 4+.
    pub purchase_burst_mean: f64,
    pub purchase_burst_shares: [f64; 3],
    pub sessions_with_purchase: f64,
    /// Accuracy of Markov-1 (fitted on the real training sessions) on these windows.
    pub markov1_accuracy: f64,
}

fn quantile(v: &mut [f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * q).round() as usize]
}

/// The figures of `sessions` (each time-sorted), Markov-1 given.
// Index loops: the 4×4 tables are read and written by (from, to) kind index.
#[allow(clippy::needless_range_loop)]
pub fn figures(sessions: &[&[Event]], markov1: &Baseline) -> SessionFigures {
    let mut f = SessionFigures {
        sessions: sessions.len(),
        ..Default::default()
    };
    let mut gaps: Vec<Vec<Vec<f64>>> = vec![vec![Vec::new(); 4]; 4];
    let (mut lengths, mut bought) = ([0usize; 5], 0usize);
    let mut bursts: Vec<usize> = Vec::new();
    let (mut right, mut windows) = (0usize, 0usize);
    for s in sessions {
        f.events += s.len();
        lengths[match s.len() {
            1 => 0,
            2 => 1,
            3..=5 => 2,
            6..=10 => 3,
            _ => 4,
        }] += 1;
        bought += s.iter().any(|e| e.kind == EventKind::Purchase) as usize;
        let mut run = 0;
        for (i, e) in s.iter().enumerate() {
            if e.kind == EventKind::Purchase {
                run += 1;
            } else if run > 0 {
                bursts.push(run);
                run = 0;
            }
            if i > 0 {
                let (a, b) = (s[i - 1].kind.index(), e.kind.index());
                f.transition_counts[a][b] += 1;
                gaps[a][b].push((e.time_ms - s[i - 1].time_ms) as f64 / 1000.0);
                windows += 1;
                right += (argmax(&markov1.predict(&s[..i])) == b) as usize;
            }
        }
        if run > 0 {
            bursts.push(run);
        }
    }
    for a in 0..4 {
        let n: usize = f.transition_counts[a].iter().sum();
        for b in 0..4 {
            f.transitions[a][b] = f.transition_counts[a][b] as f64 / n.max(1) as f64;
            f.gap_median[a][b] = quantile(&mut gaps[a][b], 0.5);
            f.gap_p90[a][b] = quantile(&mut gaps[a][b], 0.9);
        }
    }
    let n = sessions.len().max(1) as f64;
    f.length_shares = lengths.map(|c| c as f64 / n);
    f.sessions_with_purchase = bought as f64 / n;
    let nb = bursts.len().max(1) as f64;
    f.purchase_burst_mean = bursts.iter().sum::<usize>() as f64 / nb;
    f.purchase_burst_shares = [
        bursts.iter().filter(|&&b| b == 1).count() as f64 / nb,
        bursts.iter().filter(|&&b| (2..=3).contains(&b)).count() as f64 / nb,
        bursts.iter().filter(|&&b| b >= 4).count() as f64 / nb,
    ];
    f.markov1_accuracy = right as f64 / windows.max(1) as f64;
    f
}

const SHORT: [&str; 4] = ["view", "cart", "remove", "purchase"];

/// The side-by-side table as Markdown: `real` first, then each generated column.
#[allow(clippy::needless_range_loop)] // rows are named by (from, to) kind index
pub fn markdown(columns: &[(&str, &SessionFigures)]) -> String {
    let mut s = String::new();
    let head: Vec<&str> = columns.iter().map(|(n, _)| *n).collect();
    let _ = writeln!(
        s,
        "| figure | {} |\n|---|{}",
        head.join(" | "),
        "---|".repeat(columns.len())
    );
    let row = |s: &mut String, name: &str, f: &dyn Fn(&SessionFigures) -> String| {
        let cells: Vec<String> = columns.iter().map(|(_, c)| f(c)).collect();
        let _ = writeln!(s, "| {name} | {} |", cells.join(" | "));
    };
    row(&mut s, "sessions / events", &|c| {
        format!("{} / {}", c.sessions, c.events)
    });
    for a in 0..4 {
        for b in 0..4 {
            let real_n = columns[0].1.transition_counts[a][b];
            row(&mut s, &format!("P({} → {})", SHORT[a], SHORT[b]), &|c| {
                format!("{:.3}", c.transitions[a][b])
            });
            if real_n >= 20 {
                row(
                    &mut s,
                    &format!("gap {} → {}: median / p90 (s)", SHORT[a], SHORT[b]),
                    &|c| format!("{:.0} / {:.0}", c.gap_median[a][b], c.gap_p90[a][b]),
                );
            }
        }
    }
    let labels = ["1", "2", "3–5", "6–10", "11+"];
    for (i, l) in labels.iter().enumerate() {
        row(&mut s, &format!("sessions with {l} events"), &|c| {
            format!("{:.3}", c.length_shares[i])
        });
    }
    row(&mut s, "purchase burst: mean length", &|c| {
        format!("{:.2}", c.purchase_burst_mean)
    });
    row(&mut s, "purchase bursts of 1 / 2–3 / 4+", &|c| {
        format!(
            "{:.2} / {:.2} / {:.2}",
            c.purchase_burst_shares[0], c.purchase_burst_shares[1], c.purchase_burst_shares[2]
        )
    });
    row(&mut s, "sessions with a purchase", &|c| {
        format!("{:.3}", c.sessions_with_purchase)
    });
    row(
        &mut s,
        "Markov-1 accuracy (fitted on real Oct–Nov)",
        &|c| format!("{:.3}", c.markov1_accuracy),
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_count_transitions_bursts_and_lengths() {
        let ev = |t: i64, k: EventKind| Event {
            time_ms: t * 1000,
            kind: k,
            product_id: 1,
            brand: None,
            price: 1.0,
            category_code: None,
        };
        use EventKind::*;
        let a = vec![ev(0, Cart), ev(2, Purchase), ev(2, Purchase), ev(10, View)];
        let b = vec![ev(0, View)];
        let windows: Vec<(&[Event], EventKind)> =
            (1..a.len()).map(|k| (&a[..k], a[k].kind)).collect();
        let m = Baseline::markov(1, windows.iter().cloned());
        let f = figures(&[&a, &b], &m);
        assert_eq!((f.sessions, f.events), (2, 5));
        assert_eq!(f.transition_counts[1][3], 1);
        assert_eq!(f.transition_counts[3][3], 1);
        assert_eq!(f.gap_median[3][0], 8.0);
        assert_eq!(f.length_shares, [0.5, 0.0, 0.5, 0.0, 0.0]);
        assert_eq!(f.purchase_burst_mean, 2.0);
        assert_eq!(f.sessions_with_purchase, 0.5);
        assert!(markdown(&[("real", &f), ("generated", &f)])
            .contains("| P(cart → purchase) | 1.000 | 1.000 |"));
    }
}
