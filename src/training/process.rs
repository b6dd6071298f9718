//! The generator's session process, fitted to real sessions: a hidden intent state that
//! changes from event to event (a Markov chain over `K` states), and, given the state, the next
//! event's kind (depending on the previous kind), the gap before it (five bins) and whether it
//! repeats the previous event's product. Fitted by maximum likelihood (EM, forward–backward)
//! on real sessions; sessions cut by the sample's start get their own initial state
//! distribution, and their first event is not treated as a session start. Stopping is not in
//! the likelihood (the sample's sessions are cut at its end, so an observed end is not an
//! end): stop probabilities are set afterwards by moment matching to the published figures.
//! The exact next-kind distribution of the process given a prefix comes from forward
//! filtering over the hidden state: the Bayes-optimal predictor of generated data.

use serde::{Deserialize, Serialize};

use crate::core::event::{Event, EventKind};

/// Gap bins (seconds): 0, 1–5, 6–30, 31–300, > 300.
pub const GAP_EDGES: [i64; 4] = [0, 5, 30, 300];
/// Number of gap bins.
pub const N_GAP: usize = GAP_EDGES.len() + 1;

/// The bin of a gap in milliseconds.
pub fn gap_bin(gap_ms: i64) -> usize {
    let s = gap_ms.max(0) / 1000;
    GAP_EDGES
        .iter()
        .position(|&e| s <= e)
        .unwrap_or(GAP_EDGES.len())
}

/// What the process explains at one event: its kind, and for every event after the first the
/// gap bin before it and whether it repeats the previous event's product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub kind: usize,
    pub gap: usize,
    pub same_product: bool,
}

/// A session as the process sees it; `cut_start` when it may have begun before the data did.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    pub steps: Vec<Step>,
    pub cut_start: bool,
}

impl Observed {
    /// The steps of a sequence of events (time-sorted).
    pub fn of(events: &[Event], cut_start: bool) -> Self {
        let steps = events
            .iter()
            .enumerate()
            .map(|(i, e)| Step {
                kind: e.kind.index(),
                gap: if i == 0 {
                    0
                } else {
                    gap_bin(e.time_ms - events[i - 1].time_ms)
                },
                same_product: i > 0 && e.product_id == events[i - 1].product_id,
            })
            .collect();
        Observed { steps, cut_start }
    }
}

/// The fitted process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Process {
    /// Initial state distribution of sessions seen from their start.
    pub init: Vec<f64>,
    /// Initial state distribution of sessions cut by the data's start.
    pub init_cut: Vec<f64>,
    /// P(first kind | state).
    pub first: Vec<[f64; 4]>,
    /// P(first observed kind | state) of sessions cut by the data's start (mid-session).
    pub first_cut: Vec<[f64; 4]>,
    /// P(next state | state).
    pub trans: Vec<Vec<f64>>,
    /// P(kind | state, previous kind): `kind[z][prev][k]`.
    pub kind: Vec<[[f64; 4]; 4]>,
    /// P(gap bin | state, kind).
    pub gap: Vec<[[f64; N_GAP]; 4]>,
    /// P(same product as the previous event | state, kind).
    pub same: Vec<[f64; 4]>,
    /// P(the session ends after an event | state, its kind); set by moment matching.
    pub stop: Vec<[f64; 4]>,
}

/// Dirichlet pseudo-count added to every multinomial cell in the M step (keeps probabilities
/// away from 0 on a few thousand events).
const PRIOR: f64 = 0.5;

fn normalise(v: &mut [f64]) {
    let s: f64 = v.iter().sum();
    if s > 0.0 {
        v.iter_mut().for_each(|x| *x /= s);
    }
}

/// A tiny deterministic generator for initialising EM (SplitMix64).
fn jitter(seed: &mut u64) -> f64 {
    *seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *seed;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
}

impl Process {
    pub fn states(&self) -> usize {
        self.init.len()
    }

    /// A random starting point for EM with `k` states.
    fn random(k: usize, seed: u64) -> Self {
        let mut s = seed;
        let mut row = |n: usize| -> Vec<f64> {
            let mut v: Vec<f64> = (0..n).map(|_| 0.5 + jitter(&mut s)).collect();
            normalise(&mut v);
            v
        };
        let arr4 = |v: Vec<f64>| [v[0], v[1], v[2], v[3]];
        let mut trans = Vec::new();
        for z in 0..k {
            let mut r = row(k);
            // Sticky states: intent persists over a few events.
            r[z] += 2.0;
            normalise(&mut r);
            trans.push(r);
        }
        Process {
            init: row(k),
            init_cut: row(k),
            first: (0..k).map(|_| arr4(row(4))).collect(),
            first_cut: (0..k).map(|_| arr4(row(4))).collect(),
            trans,
            kind: (0..k)
                .map(|_| {
                    std::array::from_fn(|p| {
                        let mut r = row(4);
                        r[p] += 2.0; // runs: the previous kind tends to repeat
                        normalise(&mut r);
                        arr4(r)
                    })
                })
                .collect(),
            gap: (0..k)
                .map(|_| {
                    std::array::from_fn(|_| {
                        let r = row(N_GAP);
                        std::array::from_fn(|i| r[i])
                    })
                })
                .collect(),
            same: (0..k)
                .map(|_| std::array::from_fn(|_| 0.2 + 0.6 * jitter(&mut s)))
                .collect(),
            stop: vec![[0.2; 4]; k],
        }
    }

    /// P(observation of step `t` | state `z`), given the previous step (for `t > 0`); the
    /// first step of a session cut by the data's start has its own distribution.
    fn emit(&self, z: usize, prev: Option<&Step>, s: &Step, cut: bool) -> f64 {
        self.emit_adjusted(z, prev, s, cut, None)
    }

    /// [`Process::emit`] with the kind distribution tilted by logit adjustments (the
    /// generator's optional calendar and brand effects).
    fn emit_adjusted(
        &self,
        z: usize,
        prev: Option<&Step>,
        s: &Step,
        cut: bool,
        adj: Option<&[f64; 4]>,
    ) -> f64 {
        match prev {
            None if cut => self.first_cut[z][s.kind],
            None => self.first[z][s.kind],
            Some(p) => {
                let same = self.same[z][s.kind];
                let kind = match adj {
                    None => self.kind[z][p.kind][s.kind],
                    Some(a) => tilt(&self.kind[z][p.kind], a)[s.kind],
                };
                kind * self.gap[z][s.kind][s.gap] * if s.same_product { same } else { 1.0 - same }
            }
        }
    }

    /// Scaled forward pass: normalised α per step and the log-likelihood of the session.
    fn forward(&self, o: &Observed) -> (Vec<Vec<f64>>, Vec<f64>, f64) {
        self.forward_adjusted(o, None)
    }

    /// [`Process::forward`] with per-step kind adjustments (`adj[t]` for step `t`).
    fn forward_adjusted(
        &self,
        o: &Observed,
        adj: Option<&[[f64; 4]]>,
    ) -> (Vec<Vec<f64>>, Vec<f64>, f64) {
        let k = self.states();
        let mut alphas = Vec::with_capacity(o.steps.len());
        let mut scales = Vec::with_capacity(o.steps.len());
        let mut ll = 0.0;
        let init = if o.cut_start {
            &self.init_cut
        } else {
            &self.init
        };
        for (t, s) in o.steps.iter().enumerate() {
            let prev = t.checked_sub(1).map(|i| &o.steps[i]);
            let mut a: Vec<f64> = (0..k)
                .map(|z| {
                    let prior = if t == 0 {
                        init[z]
                    } else {
                        let last: &Vec<f64> = &alphas[t - 1];
                        (0..k).map(|y| last[y] * self.trans[y][z]).sum()
                    };
                    prior * self.emit_adjusted(z, prev, s, o.cut_start, adj.map(|a| &a[t]))
                })
                .collect();
            let c: f64 = a.iter().sum::<f64>().max(1e-300);
            a.iter_mut().for_each(|x| *x /= c);
            ll += c.ln();
            scales.push(c);
            alphas.push(a);
        }
        (alphas, scales, ll)
    }

    /// Log-likelihood of sessions, and the number of events it explains.
    pub fn log_likelihood(&self, sessions: &[Observed]) -> (f64, usize) {
        let ll = sessions.iter().map(|o| self.forward(o).2).sum();
        (ll, sessions.iter().map(|o| o.steps.len()).sum())
    }

    /// Fits a `k`-state process by EM from `restarts` random starts; keeps the best.
    pub fn fit(sessions: &[Observed], k: usize, iterations: usize, restarts: u64) -> Self {
        let mut best: Option<(f64, Process)> = None;
        for r in 0..restarts {
            let mut p = Process::random(k, 0x5eed_0000 + r * 7919 + k as u64);
            let mut last = f64::NEG_INFINITY;
            for _ in 0..iterations {
                let (next, ll) = p.em_step(sessions);
                p = next;
                if ll - last < 1e-6 * ll.abs() {
                    break;
                }
                last = ll;
            }
            let ll = p.log_likelihood(sessions).0;
            if best.as_ref().is_none_or(|b| ll > b.0) {
                best = Some((ll, p));
            }
        }
        best.expect("at least one restart").1
    }

    /// One EM iteration: expected counts from forward–backward, then normalised counts.
    fn em_step(&self, sessions: &[Observed]) -> (Process, f64) {
        let k = self.states();
        let mut init = vec![PRIOR; k];
        let mut init_cut = vec![PRIOR; k];
        let mut first = vec![[PRIOR; 4]; k];
        let mut first_cut = vec![[PRIOR; 4]; k];
        let mut trans = vec![vec![PRIOR; k]; k];
        let mut kind = vec![[[PRIOR; 4]; 4]; k];
        let mut gap = vec![[[PRIOR; N_GAP]; 4]; k];
        let mut same = vec![[[PRIOR; 2]; 4]; k];
        let mut total = 0.0;
        for o in sessions {
            let (alphas, scales, ll) = self.forward(o);
            total += ll;
            let n = o.steps.len();
            // Backward, scaled by the same constants.
            let mut beta = vec![vec![1.0; k]; n];
            for t in (0..n - 1).rev() {
                let s = &o.steps[t + 1];
                for z in 0..k {
                    beta[t][z] = (0..k)
                        .map(|y| {
                            self.trans[z][y]
                                * self.emit(y, Some(&o.steps[t]), s, false)
                                * beta[t + 1][y]
                        })
                        .sum::<f64>()
                        / scales[t + 1];
                }
            }
            for t in 0..n {
                let g: Vec<f64> = {
                    let mut g: Vec<f64> = (0..k).map(|z| alphas[t][z] * beta[t][z]).collect();
                    normalise(&mut g);
                    g
                };
                let s = &o.steps[t];
                for z in 0..k {
                    if t == 0 {
                        if o.cut_start {
                            init_cut[z] += g[z];
                            first_cut[z][s.kind] += g[z];
                        } else {
                            init[z] += g[z];
                            first[z][s.kind] += g[z];
                        }
                    } else {
                        let p = &o.steps[t - 1];
                        kind[z][p.kind][s.kind] += g[z];
                        gap[z][s.kind][s.gap] += g[z];
                        same[z][s.kind][s.same_product as usize] += g[z];
                    }
                }
                if t + 1 < n {
                    let s1 = &o.steps[t + 1];
                    for z in 0..k {
                        for y in 0..k {
                            trans[z][y] += alphas[t][z]
                                * self.trans[z][y]
                                * self.emit(y, Some(s), s1, false)
                                * beta[t + 1][y]
                                / scales[t + 1];
                        }
                    }
                }
            }
        }
        normalise(&mut init);
        normalise(&mut init_cut);
        for z in 0..k {
            normalise(&mut first[z]);
            normalise(&mut first_cut[z]);
            normalise(&mut trans[z]);
            for p in 0..4 {
                normalise(&mut kind[z][p]);
                normalise(&mut gap[z][p]);
            }
        }
        let same = same
            .iter()
            .map(|per| std::array::from_fn(|c| per[c][1] / (per[c][0] + per[c][1])))
            .collect();
        (
            Process {
                init,
                init_cut,
                first,
                first_cut,
                trans,
                kind,
                gap,
                same,
                stop: self.stop.clone(),
            },
            total,
        )
    }

    /// The exact distribution of the next event's kind after `prefix` (given that the session
    /// goes on): forward filtering over the hidden state. The Bayes-optimal predictor.
    pub fn next_kind(&self, prefix: &[Event]) -> [f64; 4] {
        self.next_kind_adjusted(prefix, None, None)
    }

    /// [`Process::next_kind`] when each kind was drawn tilted by logit adjustments: `past[t]`
    /// for step `t` of the prefix, `next` for the event to come.
    // `z`, `y` index states in several tables at once (`cont`, `trans`, `kind`).
    #[allow(clippy::needless_range_loop)]
    pub fn next_kind_adjusted(
        &self,
        prefix: &[Event],
        past: Option<&[[f64; 4]]>,
        next: Option<&[f64; 4]>,
    ) -> [f64; 4] {
        let o = Observed::of(prefix, false);
        let (alphas, _, _) = self.forward_adjusted(&o, past);
        let a = alphas.last().expect("a non-empty prefix");
        let last = o.steps.last().expect("a non-empty prefix").kind;
        let k = self.states();
        let mut cont: Vec<f64> = (0..k).map(|z| a[z] * (1.0 - self.stop[z][last])).collect();
        if cont.iter().sum::<f64>() <= 0.0 {
            cont = a.clone();
        }
        normalise(&mut cont);
        let mut p = [0.0; 4];
        for z in 0..k {
            for y in 0..k {
                let w = cont[z] * self.trans[z][y];
                let row = match next {
                    Some(a) => tilt(&self.kind[y][last], a),
                    None => self.kind[y][last],
                };
                for (c, pc) in p.iter_mut().enumerate() {
                    *pc += w * row[c];
                }
            }
        }
        let s: f64 = p.iter().sum();
        p.map(|x| x / s)
    }
}

/// A distribution tilted by logit adjustments: `p_k e^{a_k} / Σ p_c e^{a_c}`.
pub fn tilt(p: &[f64; 4], a: &[f64; 4]) -> [f64; 4] {
    let w: [f64; 4] = std::array::from_fn(|k| p[k] * a[k].exp());
    let s: f64 = w.iter().sum();
    w.map(|x| x / s)
}

/// The event kinds in class order, by index.
pub fn kind_of(i: usize) -> EventKind {
    EventKind::ALL[i]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sessions drawn from a known 2-state process: EM recovers its structure, the held-out
    /// likelihood prefers 2 states over 1, and the filter's predictions sum to 1.
    #[test]
    fn em_recovers_a_two_state_process() {
        let mut truth = Process::random(2, 1);
        // State 0 browses (views repeat), state 1 buys (carts, then purchases).
        truth.init = vec![0.5, 0.5];
        truth.trans = vec![vec![0.95, 0.05], vec![0.05, 0.95]];
        truth.first = vec![[0.9, 0.1, 0.0, 0.0], [0.1, 0.9, 0.0, 0.0]];
        for p in 0..4 {
            truth.kind[0][p] = [0.9, 0.05, 0.05, 0.0];
            truth.kind[1][p] = [0.1, 0.5, 0.05, 0.35];
        }
        let mut seed = 99u64;
        let mut draw = |w: &[f64]| crate::training::synth::pick(w, jitter(&mut seed));
        let mut sessions = Vec::new();
        for _ in 0..600 {
            let mut z = draw(&truth.init);
            let mut steps = vec![Step {
                kind: draw(&truth.first[z]),
                gap: 0,
                same_product: false,
            }];
            for _ in 0..7 {
                z = draw(&truth.trans[z]);
                let prev = steps.last().unwrap().kind;
                let kind = draw(&truth.kind[z][prev]);
                let gap = draw(&truth.gap[z][kind]);
                steps.push(Step {
                    kind,
                    gap,
                    same_product: false,
                });
            }
            sessions.push(Observed {
                steps,
                cut_start: false,
            });
        }
        let (train, held) = sessions.split_at(500);
        let one = Process::fit(train, 1, 60, 1);
        let two = Process::fit(train, 2, 60, 3);
        let (l1, n) = one.log_likelihood(held);
        let (l2, _) = two.log_likelihood(held);
        assert!(
            l2 / n as f64 > l1 / n as f64 + 0.01,
            "2 states {l2} vs 1 state {l1}"
        );
        // One state browses: its view→view probability is high.
        let browse = (0..2)
            .max_by(|&a, &b| two.kind[a][0][0].total_cmp(&two.kind[b][0][0]))
            .unwrap();
        assert!(two.kind[browse][0][0] > 0.8, "{:?}", two.kind);
        let ev = |k: EventKind, t: i64| Event {
            time_ms: 1_575_000_000_000 + t * 1000,
            kind: k,
            product_id: 1,
            brand: None,
            price: 1.0,
            category_code: None,
        };
        let p = two.next_kind(&[ev(EventKind::Cart, 0), ev(EventKind::Cart, 3)]);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        assert!(p[3] > 0.2, "a cart run predicts purchases: {p:?}");
        assert_eq!(gap_bin(0), 0);
        assert_eq!(gap_bin(5_000), 1);
        assert_eq!(gap_bin(301_000), 4);
    }
}
