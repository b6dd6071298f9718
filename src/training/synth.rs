//! Synthetic Kaggle-schema events at any scale: sessions drawn from the [`Process`] fitted to
//! the real sample (its hidden intent states, kind transitions, gaps and product repeats),
//! stop probabilities matched to the published figures, real products, brands and prices
//! from `../shared/data`, and the process's exact next-kind distribution so the
//! Bayes-optimal limit on generated data is exact. Optional calendar and brand effects tilt
//! the kind distribution, for the context experiments.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use rand::distr::{weighted::WeightedIndex, Distribution};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{LogNormal, Zipf};
use serde::{Deserialize, Serialize};

use crate::core::context::{Calendar, CalendarIndex};
use crate::core::event::{format_time, Event, EventKind};
use crate::core::kaggle_csv::parse_kaggle_csv;
use crate::core::spec::WINDOW;
use crate::data::error::{Error, Result};
use crate::data::files;
use crate::data::metrics::Confusion;
use crate::training::process::{gap_bin, tilt, Process, N_GAP};

/// Published rows per month of the full dataset (Oct 2019 – Feb 2020).
pub const MONTHS: [(&str, i64, u64); 5] = [
    ("2019-10", 1_569_888_000_000, 4_102_283),
    ("2019-11", 1_572_566_400_000, 4_635_837),
    ("2019-12", 1_575_158_400_000, 3_533_286),
    ("2020-01", 1_577_836_800_000, 4_264_752),
    ("2020-02", 1_580_515_200_000, 4_156_682),
];
/// End of February 2020.
pub const END_MS: i64 = 1_583_020_800_000;
/// Rows of the full dataset.
pub const FULL_ROWS: u64 = 20_692_840;

/// A product of the shop.
#[derive(Debug, Clone)]
pub struct Product {
    pub id: u64,
    pub category_id: u64,
    pub category_code: Option<Arc<str>>,
    pub brand: Option<Arc<str>>,
    pub price: f32,
}

/// The shop's products, with popularity and brand indices.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub products: Vec<Product>,
    by_brand: HashMap<Arc<str>, Vec<usize>>,
    brands: Vec<Arc<str>>,
    brand_weights: WeightedIndex<f64>,
    popularity: Vec<usize>,
    /// Zipf over popularity ranks, built once (not per pick).
    zipf: Zipf<f64>,
}

impl Catalog {
    /// Loads the product table (`product_id,category_id,category_code,brand`) and takes real
    /// prices from the sample where a product appears there; other prices are drawn from a
    /// log-normal matched to the published median 4.05 and quartiles 2.06 / 7.06.
    pub fn load(products_csv: &Path, sample_csv: &Path, seed: u64) -> Result<Catalog> {
        let file_err = |p: &Path, e: String| Error::input(p, e);
        let sample = files::read_text(sample_csv)?;
        let (events, _) = parse_kaggle_csv(&sample);
        let mut sample_price: HashMap<u64, f32> = HashMap::new();
        for e in &events {
            sample_price.insert(e.product_id, e.price);
        }
        let mut rdr = csv::Reader::from_path(products_csv)
            .map_err(|e| file_err(products_csv, e.to_string()))?;
        let mut rng = StdRng::seed_from_u64(seed ^ 0x0050_5249_4345);
        let price_dist =
            LogNormal::new(4.05f64.ln(), (7.06f64 / 2.06).ln() / 1.349).expect("valid log-normal");
        let mut products = Vec::new();
        let mut interned: HashMap<String, Arc<str>> = HashMap::new();
        let mut intern = |s: &str| -> Option<Arc<str>> {
            let s = s.trim();
            (!s.is_empty()).then(|| {
                interned
                    .entry(s.to_string())
                    .or_insert_with(|| Arc::from(s))
                    .clone()
            })
        };
        for (i, rec) in rdr.records().enumerate() {
            let rec = rec.map_err(|e| file_err(products_csv, format!("row {}: {e}", i + 1)))?;
            let id: u64 = rec
                .get(0)
                .and_then(|s| s.trim().parse().ok())
                .ok_or_else(|| file_err(products_csv, format!("row {}: bad product_id", i + 1)))?;
            let category_id = rec.get(1).and_then(|s| s.trim().parse().ok()).unwrap_or(0);
            let category_code = rec.get(2).and_then(&mut intern);
            let brand = rec.get(3).and_then(&mut intern);
            let drawn = (price_dist.sample(&mut rng).min(327.78) * 100.0).round() / 100.0;
            let price = sample_price
                .get(&id)
                .copied()
                .unwrap_or(drawn.max(0.01) as f32);
            products.push(Product {
                id,
                category_id,
                category_code,
                brand,
                price,
            });
        }
        if products.is_empty() {
            return Err(file_err(products_csv, "no products".into()));
        }
        let mut by_brand: HashMap<Arc<str>, Vec<usize>> = HashMap::new();
        for (i, p) in products.iter().enumerate() {
            if let Some(b) = &p.brand {
                by_brand.entry(b.clone()).or_default().push(i);
            }
        }
        let mut brands: Vec<Arc<str>> = by_brand.keys().cloned().collect();
        brands.sort();
        // Brand popularity: products per brand, boosted by the brand's events in the sample.
        let mut sample_brand: HashMap<&str, f64> = HashMap::new();
        for e in &events {
            if let Some(b) = &e.brand {
                *sample_brand.entry(b).or_default() += 1.0;
            }
        }
        let weights: Vec<f64> = brands
            .iter()
            .map(|b| {
                by_brand[b].len() as f64 + 20.0 * sample_brand.get(&**b).copied().unwrap_or(0.0)
            })
            .collect();
        let brand_weights = WeightedIndex::new(&weights)
            .map_err(|e| file_err(products_csv, format!("brand weights: {e}")))?;
        let mut popularity: Vec<usize> = (0..products.len()).collect();
        // Products seen in the sample are the popular ones; the rest in a seeded random order.
        for i in (1..popularity.len()).rev() {
            popularity.swap(i, rng.random_range(0..=i));
        }
        popularity.sort_by_key(|&i| !sample_price.contains_key(&products[i].id));
        let zipf = Zipf::new(popularity.len() as f64, 1.05)
            .map_err(|e| file_err(products_csv, format!("popularity: {e}")))?;
        Ok(Catalog {
            products,
            by_brand,
            brands,
            brand_weights,
            popularity,
            zipf,
        })
    }

    fn popular(&self, rng: &mut StdRng) -> usize {
        self.popularity[(self.zipf.sample(rng) as usize - 1).min(self.popularity.len() - 1)]
    }

    fn random_brand(&self, rng: &mut StdRng) -> Arc<str> {
        self.brands[self.brand_weights.sample(rng)].clone()
    }
}

/// Optional effects in the generator's process, off by default (the shipped model's data has
/// neither). With them, the kind distribution depends on things only context features or a
/// brand-level signal can see, which is what the external-context and brand-embedding
/// experiments need. They tilt the fitted process's kind probabilities by logit adjustments.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Effects {
    /// Promotion days raise carts and purchases, the days before one hold purchases back,
    /// holidays favour browsing.
    #[serde(default)]
    pub calendar: Option<Calendar>,
    /// Each brand has a hidden appeal in [-1, 1]; carted brands with appeal raise purchases
    /// and lower removals.
    #[serde(default)]
    pub brand_appeal: bool,
}

impl Effects {
    /// The effects in the form the process evaluates quickly.
    pub fn world(&self) -> World {
        World {
            calendar: self.calendar.as_ref().map(Calendar::index),
            brand_appeal: self.brand_appeal,
        }
    }
}

/// [`Effects`], indexed.
#[derive(Debug, Clone, Default)]
pub struct World {
    pub calendar: Option<CalendarIndex>,
    pub brand_appeal: bool,
}

impl World {
    fn is_plain(&self) -> bool {
        self.calendar.is_none() && !self.brand_appeal
    }

    /// Logit adjustments of the kind of the event after `window` (zeros without effects).
    pub fn adjust(&self, window: &[Event]) -> [f64; 4] {
        let mut l = [0.0; 4];
        let Some(last) = window.last() else {
            return l;
        };
        if let Some(cal) = &self.calendar {
            let [promo, holiday, soon] = cal.features(last.time_ms);
            if promo > 0.0 {
                l[3] += 1.2;
                l[1] += 0.5;
                l[0] -= 0.3;
            }
            if holiday > 0.0 {
                l[0] += 0.6;
                l[3] -= 0.6;
            }
            if soon > 0.0 {
                l[1] += 0.4;
                l[3] -= 1.0;
            }
        }
        if self.brand_appeal {
            let w = &window[window.len().saturating_sub(WINDOW)..];
            let appeal: Vec<f64> = w
                .iter()
                .filter(|e| e.kind == EventKind::Cart)
                .filter_map(|e| e.brand.as_deref().map(brand_appeal))
                .collect();
            if !appeal.is_empty() {
                let a = appeal.iter().sum::<f64>() / appeal.len() as f64;
                l[3] += 1.8 * a;
                l[2] -= 1.2 * a;
            }
        }
        l
    }

    /// The exact next-kind distribution of the process, with these effects, after `prefix`.
    pub fn next_kind(&self, process: &Process, prefix: &[Event]) -> [f64; 4] {
        if self.is_plain() {
            return process.next_kind(prefix);
        }
        let past: Vec<[f64; 4]> = (0..prefix.len())
            .map(|t| self.adjust(&prefix[..t]))
            .collect();
        process.next_kind_adjusted(prefix, Some(&past), Some(&self.adjust(prefix)))
    }
}

/// A brand's hidden appeal in [-1, 1] (a hash, independent of the encoder's brand buckets).
pub fn brand_appeal(brand: &str) -> f64 {
    let mut h: u64 = 0x9e37_79b9_7f4a_7c15;
    for b in brand.trim().to_lowercase().bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (h % 2001) as f64 / 1000.0 - 1.0
}

/// Activity by UTC hour (the shop's evening is ~15–20 UTC).
const HOURS: [f64; 24] = [
    2., 1.5, 1., 1., 1.5, 2.5, 4., 5., 6., 6.5, 6.5, 6.5, 6.5, 7., 7., 7.5, 8., 8.5, 8.5, 8., 7.,
    5.5, 4., 3.,
];

/// Published figures of the full dataset the stop probabilities are matched to.
pub mod published {
    /// Events per session.
    pub const EVENTS_PER_SESSION: f64 = 4.3;
    /// Share of sessions with a purchase.
    pub const SESSIONS_WITH_PURCHASE: f64 = 0.034;
    /// Share of users who ever buy.
    pub const USERS_WHO_BUY: f64 = 0.068;
    /// Sessions per user (4.5 M sessions, 1.64 M users).
    pub const SESSIONS_PER_USER: f64 = 4.5 / 1.64;
    /// Event-type shares, mean of the months the README gives (view, cart, remove, purchase).
    pub const SHARES: [f64; 4] = [0.467, 0.279, 0.191, 0.063];
}

/// Settings of one generation run.
#[derive(Debug, Clone, Serialize)]
pub struct GenConfig {
    pub rows: u64,
    pub seed: u64,
    pub duplicate_rate: f64,
    pub no_session_id_rate: f64,
    pub negative_price_rate: f64,
    /// Fraction of the time span at the end used for the Bayes-optimal figures.
    pub test_frac: f64,
    /// Optional effects in the process (none by default).
    pub effects: Effects,
    /// Compute the Bayes-optimal figures of the last `test_frac` (forward filtering over every
    /// prefix: a large share of the time at tens of millions of rows).
    pub bayes: bool,
}

impl Default for GenConfig {
    fn default() -> Self {
        GenConfig {
            rows: 100_000,
            seed: 42,
            duplicate_rate: 0.015,
            no_session_id_rate: 3e-4,
            negative_price_rate: 1e-4,
            test_frac: 0.2,
            effects: Effects::default(),
            bayes: true,
        }
    }
}

/// Figures of a generated file.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GenSummary {
    pub rows: u64,
    pub sessions: u64,
    pub users: u64,
    pub share: [f64; 4],
    pub mean_session_events: f64,
    pub sessions_with_purchase: f64,
    pub users_who_buy: f64,
    /// Rows written twice on purpose (`duplicate_rate`).
    pub duplicate_rows: u64,
    /// Events the process drew that repeat an earlier one exactly (same second, kind and
    /// product), as the real export has: ingest drops them as duplicates too.
    pub natural_duplicate_rows: u64,
    pub rows_without_session_id: u64,
    pub negative_price_rows: u64,
    pub bayes: Bayes,
}

/// The Bayes-optimal predictor (argmax of the true process) on the test period's windows.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Bayes {
    pub windows: u64,
    pub accuracy: f64,
    pub macro_f1: f64,
    /// Mean of max probability: the accuracy expected in the limit of many windows.
    pub expected_accuracy: f64,
    /// Mean log loss of the true distribution: no model can expect a lower one.
    #[serde(default)]
    pub log_loss: f64,
}

impl Bayes {
    /// Bayes-optimal figures of `process` (with `world`'s effects) on windows.
    pub fn on<'a>(
        windows: impl Iterator<Item = (&'a [Event], EventKind)>,
        process: &Process,
        world: &World,
    ) -> Bayes {
        let mut b = BayesCounter::default();
        for (w, y) in windows {
            b.add(&world.next_kind(process, w), y);
        }
        b.finish()
    }
}

#[derive(Default)]
struct BayesCounter {
    c: Confusion,
    exp: f64,
    ll: f64,
}

impl BayesCounter {
    fn add(&mut self, p: &[f64; 4], y: EventKind) {
        let (i, m) = p
            .iter()
            .enumerate()
            .fold((0, 0.0), |a, (i, &v)| if v > a.1 { (i, v) } else { a });
        self.c.add(y.index(), i);
        self.exp += m;
        self.ll -= p[y.index()].max(1e-12).ln();
    }

    fn finish(self) -> Bayes {
        let n = self.c.total();
        let d = n.max(1) as f64;
        Bayes {
            windows: n,
            accuracy: self.c.accuracy(),
            macro_f1: self.c.macro_f1(),
            expected_accuracy: self.exp / d,
            log_loss: self.ll / d,
        }
    }
}

fn draw(w: &[f64], rng: &mut StdRng) -> usize {
    pick(w, rng.random())
}

/// The index whose cumulative weight first exceeds `u` (in 0..1); the last one if none does.
pub(crate) fn pick(w: &[f64], u: f64) -> usize {
    let mut acc = 0.0;
    for (i, x) in w.iter().enumerate() {
        acc += x;
        if u < acc {
            return i;
        }
    }
    w.len() - 1
}

/// Seconds of a gap in a bin: 0; log-uniform in 1–5, 6–30, 31–300; above 300 an exponential
/// tail (mean 10 minutes) — the sample has too few long gaps for an empirical shape.
fn gap_seconds(bin: usize, rng: &mut StdRng) -> i64 {
    let log_uniform = |lo: f64, hi: f64, rng: &mut StdRng| -> i64 {
        (lo.ln() + rng.random::<f64>() * (hi.ln() - lo.ln()))
            .exp()
            .round() as i64
    };
    match bin {
        0 => 0,
        1 => log_uniform(1.0, 5.0, rng),
        2 => log_uniform(6.0, 30.0, rng),
        3 => log_uniform(31.0, 300.0, rng),
        _ => 301 + (-(1.0 - rng.random::<f64>()).ln() * 600.0) as i64,
    }
}

/// A shopper of the generated shop.
struct User {
    id: u64,
    favourite: Option<Arc<str>>,
}

/// Picks a product for an event of `kind` that is not a repeat of the previous event's:
/// carts mostly take a viewed product, removes and purchases a carted one.
fn pick_product(
    kind: EventKind,
    w: &[(Event, usize)],
    user: &User,
    cat: &Catalog,
    rng: &mut StdRng,
) -> usize {
    let fresh = |rng: &mut StdRng| match &user.favourite {
        Some(b) if rng.random_bool(0.55) => {
            let ps = &cat.by_brand[b];
            ps[rng.random_range(0..ps.len())]
        }
        _ => cat.popular(rng),
    };
    let of = |k: EventKind| -> Vec<usize> {
        w.iter()
            .filter(|(e, _)| e.kind == k)
            .map(|(_, i)| *i)
            .collect()
    };
    match kind {
        EventKind::View => fresh(rng),
        EventKind::Cart => {
            let viewed = of(EventKind::View);
            if !viewed.is_empty() && rng.random_bool(0.7) {
                viewed[rng.random_range(0..viewed.len())]
            } else {
                fresh(rng)
            }
        }
        EventKind::RemoveFromCart | EventKind::Purchase => {
            let carted = of(EventKind::Cart);
            if carted.is_empty() {
                fresh(rng)
            } else {
                carted[rng.random_range(0..carted.len())]
            }
        }
    }
}

/// One generated session: events with their product indices.
pub struct SimSession {
    pub events: Vec<(Event, usize)>,
    pub purchased: bool,
    /// Events that repeat an earlier event of the session exactly (same second, kind and
    /// product): the real export has such rows too, and ingest drops them as duplicates.
    pub duplicates: u64,
}

/// The longest session the generator draws (the real sample's longest has 107 events).
pub const MAX_SESSION_EVENTS: usize = 200;

/// Draws one session of `process` starting at `t0` for `user`.
fn simulate(
    process: &Process,
    world: &World,
    cat: &Catalog,
    user: &User,
    t0: i64,
    rng: &mut StdRng,
) -> SimSession {
    let mut z = draw(&process.init, rng);
    let mut kind = draw(&process.first[z], rng);
    let mut t = t0;
    let mut w: Vec<(Event, usize)> = Vec::new();
    let mut prefix: Vec<Event> = Vec::new();
    let mut purchased = false;
    let mut duplicates = 0;
    loop {
        let k = EventKind::ALL[kind];
        let same = !w.is_empty() && rng.random_bool(process.same[z][kind].clamp(0.0, 1.0));
        let pi = if same {
            w.last().expect("a previous event").1
        } else {
            pick_product(k, &w, user, cat, rng)
        };
        let p = &cat.products[pi];
        let ev = Event {
            time_ms: t,
            kind: k,
            product_id: p.id,
            brand: p.brand.clone(),
            price: p.price,
            category_code: p.category_code.clone(),
        };
        purchased |= k == EventKind::Purchase;
        duplicates += w
            .iter()
            .rev()
            .take_while(|(e, _)| e.time_ms == ev.time_ms)
            .any(|(e, _)| e.kind == ev.kind && e.product_id == ev.product_id)
            as u64;
        prefix.push(ev.clone());
        w.push((ev, pi));
        if w.len() >= MAX_SESSION_EVENTS || rng.random_bool(process.stop[z][kind].clamp(0.0, 1.0)) {
            break;
        }
        z = draw(&process.trans[z], rng);
        let row = if world.is_plain() {
            process.kind[z][kind]
        } else {
            tilt(&process.kind[z][kind], &world.adjust(&prefix))
        };
        kind = draw(&row, rng);
        let bin = draw(&process.gap[z][kind], rng);
        t += gap_seconds(bin, rng) * 1000;
    }
    SimSession {
        events: w,
        purchased,
        duplicates,
    }
}

/// Exact repeats (same second, kind and product as an earlier event) among `events`.
fn natural_duplicates(events: &[(Event, usize)]) -> u64 {
    (1..events.len())
        .filter(|&i| {
            let e = &events[i].0;
            events[..i]
                .iter()
                .rev()
                .take_while(|(p, _)| p.time_ms == e.time_ms)
                .any(|(p, _)| p.kind == e.kind && p.product_id == e.product_id)
        })
        .count() as u64
}

/// Session statistics of `n` sessions drawn from `process` (no catalog needed beyond one
/// product): events per session, share with a purchase, event-kind shares. What the stop
/// probabilities are matched on.
pub fn session_moments(process: &Process, n: usize, seed: u64) -> (f64, f64, [f64; 4]) {
    let mut rng = StdRng::seed_from_u64(seed);
    let (mut events, mut bought, mut kinds) = (0usize, 0usize, [0usize; 4]);
    for _ in 0..n {
        let mut z = draw(&process.init, &mut rng);
        let mut kind = draw(&process.first[z], &mut rng);
        let mut len = 0;
        let mut b = false;
        loop {
            len += 1;
            kinds[kind] += 1;
            b |= kind == 3;
            if len >= MAX_SESSION_EVENTS || rng.random_bool(process.stop[z][kind].clamp(0.0, 1.0)) {
                break;
            }
            z = draw(&process.trans[z], &mut rng);
            kind = draw(&process.kind[z][kind], &mut rng);
        }
        events += len;
        bought += b as usize;
    }
    let total = events.max(1) as f64;
    (
        events as f64 / n as f64,
        bought as f64 / n as f64,
        kinds.map(|k| k as f64 / total),
    )
}

/// Sets the process's stop probabilities (one per kind, shared by the states) by moment
/// matching: minimises the squared relative error of events per session, share of sessions
/// with a purchase and the four event shares against the published figures (a least-squares
/// penalty; Nelder–Mead on the logits, common random numbers so the search is smooth).
/// Returns the achieved moments.
pub fn match_stops(process: &mut Process, seed: u64) -> (f64, f64, [f64; 4]) {
    let k = process.states();
    let sims = 20_000;
    let loss = |x: &[f64; 4], p: &mut Process| -> f64 {
        let stop: [f64; 4] = x.map(|v| 1.0 / (1.0 + (-v).exp()));
        p.stop = vec![stop; k];
        let (len, buy, share) = session_moments(p, sims, seed);
        let rel = |a: f64, b: f64| ((a - b) / b).powi(2);
        rel(len, published::EVENTS_PER_SESSION)
            + rel(buy, published::SESSIONS_WITH_PURCHASE)
            + (0..4)
                .map(|i| rel(share[i], published::SHARES[i]))
                .sum::<f64>()
                / 4.0
    };
    // Nelder–Mead in 4 dimensions.
    let mut simplex: Vec<[f64; 4]> = vec![[-1.2, -1.5, -1.2, -1.0]];
    for i in 0..4 {
        let mut v = simplex[0];
        v[i] += 0.8;
        simplex.push(v);
    }
    let mut f: Vec<f64> = simplex.iter().map(|x| loss(x, process)).collect();
    for _ in 0..120 {
        let mut idx: Vec<usize> = (0..5).collect();
        idx.sort_by(|&a, &b| f[a].total_cmp(&f[b]));
        simplex = idx.iter().map(|&i| simplex[i]).collect();
        f = idx.iter().map(|&i| f[i]).collect();
        if f[4] - f[0] < 1e-7 {
            break;
        }
        let c: [f64; 4] =
            std::array::from_fn(|d| simplex[..4].iter().map(|v| v[d]).sum::<f64>() / 4.0);
        let at =
            |t: f64| -> [f64; 4] { std::array::from_fn(|d| c[d] + t * (simplex[4][d] - c[d])) };
        let r = at(-1.0);
        let fr = loss(&r, process);
        if fr < f[0] {
            let e = at(-2.0);
            let fe = loss(&e, process);
            if fe < fr {
                simplex[4] = e;
                f[4] = fe;
            } else {
                simplex[4] = r;
                f[4] = fr;
            }
        } else if fr < f[3] {
            simplex[4] = r;
            f[4] = fr;
        } else {
            let cc = at(0.5);
            let fc = loss(&cc, process);
            if fc < f[4] {
                simplex[4] = cc;
                f[4] = fc;
            } else {
                for i in 1..5 {
                    simplex[i] = std::array::from_fn(|d| {
                        simplex[0][d] + 0.5 * (simplex[i][d] - simplex[0][d])
                    });
                    f[i] = loss(&simplex[i], process);
                }
            }
        }
    }
    let best = (0..5)
        .min_by(|&a, &b| f[a].total_cmp(&f[b]))
        .expect("a vertex");
    let x = simplex[best];
    loss(&x, process);
    session_moments(process, sims, seed)
}

/// Generates `cfg.rows` Kaggle-schema rows of `process` into `out` (`.gz` → gzip), sorted by
/// time per month, with users, times of day and data dirt (duplicates, missing session ids,
/// negative prices) as in the real export.
pub fn generate(
    cat: &Catalog,
    process: &Process,
    cfg: &GenConfig,
    out: &Path,
    progress: bool,
) -> Result<GenSummary> {
    let mut rng = StdRng::seed_from_u64(cfg.seed);
    let expected_sessions = cfg.rows as f64 / published::EVENTS_PER_SESSION;
    let n_users = ((expected_sessions / published::SESSIONS_PER_USER).ceil() as usize).max(1);
    let users: Vec<User> = (0..n_users)
        .map(|_| User {
            id: rng.random_range(100_000_000..700_000_000),
            favourite: rng.random_bool(0.7).then(|| cat.random_brand(&mut rng)),
        })
        .collect();
    let world = cfg.effects.world();
    let hours = WeightedIndex::new(HOURS).expect("hours");
    let mut wtr = csv::Writer::from_writer(files::create(out)?);
    let csv_err = |source| Error::CsvWrite {
        path: out.to_path_buf(),
        source,
    };
    wtr.write_record(crate::core::kaggle_csv::KAGGLE_HEADER)
        .map_err(csv_err)?;
    let test_from = END_MS - ((END_MS - MONTHS[0].1) as f64 * cfg.test_frac) as i64;
    let mut summary = GenSummary {
        users: n_users as u64,
        ..Default::default()
    };
    let mut counts = [0u64; 4];
    let mut bayes = BayesCounter::default();
    let mut buyers = vec![false; n_users];
    let mut session_events = 0u64;
    let bar = progress.then(|| indicatif::ProgressBar::new(cfg.rows));
    let mut written = 0u64;
    struct Row {
        time_ms: i64,
        kind: EventKind,
        product: u32,
        user: u32,
        session: u64,
        no_session_id: bool,
        negative_price: bool,
    }
    // Sessions that start near a month's end run into the next month: their later rows are
    // carried over and written with that month, so the file is time-sorted as a whole (as
    // Kaggle's exports are, and as `nextevent score` requires).
    let mut carry: Vec<Row> = Vec::new();
    for (mi, &(_, start, month_rows)) in MONTHS.iter().enumerate() {
        let end = MONTHS.get(mi + 1).map_or(END_MS, |m| m.1);
        let last_month = mi == MONTHS.len() - 1;
        let target = if mi == MONTHS.len() - 1 {
            cfg.rows - written
        } else {
            (cfg.rows as f64 * month_rows as f64 / FULL_ROWS as f64).round() as u64
        };
        let mut rows: Vec<Row> = Vec::with_capacity(target as usize + MAX_SESSION_EVENTS);
        let days = (end - start) / 86_400_000;
        while (rows.len() as u64) < target {
            let ui = rng.random_range(0..n_users);
            let t0 = start
                + rng.random_range(0..days) * 86_400_000
                + hours.sample(&mut rng) as i64 * 3_600_000
                + rng.random_range(0..3600) * 1000;
            let session_id: u64 = rng.random();
            let no_id = rng.random_bool(cfg.no_session_id_rate);
            let sim = simulate(process, &world, cat, &users[ui], t0, &mut rng);
            let room = (target - rows.len() as u64) as usize;
            if sim.events.len() <= room {
                summary.natural_duplicate_rows += sim.duplicates;
            } else {
                summary.natural_duplicate_rows += natural_duplicates(&sim.events[..room]);
            }
            let evs: Vec<Event> = sim
                .events
                .iter()
                .take(room)
                .map(|(e, _)| e.clone())
                .collect();
            for (e, pi) in sim.events.iter().take(room) {
                let neg = e.kind == EventKind::Purchase && rng.random_bool(cfg.negative_price_rate);
                rows.push(Row {
                    time_ms: e.time_ms,
                    kind: e.kind,
                    product: *pi as u32,
                    user: ui as u32,
                    session: session_id,
                    no_session_id: no_id,
                    negative_price: neg,
                });
                counts[e.kind.index()] += 1;
            }
            if cfg.bayes && t0 >= test_from {
                for k in 1..evs.len() {
                    bayes.add(&world.next_kind(process, &evs[..k]), evs[k].kind);
                }
            }
            let purchased = evs.iter().any(|e| e.kind == EventKind::Purchase);
            buyers[ui] |= purchased;
            summary.sessions += 1;
            summary.sessions_with_purchase += purchased as u8 as f64;
            session_events += evs.len() as u64;
        }
        rows.append(&mut carry);
        // Stable: rows of one time keep their session order.
        rows.sort_by_key(|r| r.time_ms);
        if !last_month {
            let cut = rows.partition_point(|r| r.time_ms < end);
            carry = rows.split_off(cut);
        }
        for r in &rows {
            let p = &cat.products[r.product as usize];
            let sid = if r.no_session_id {
                String::new()
            } else {
                let s = r.session;
                format!(
                    "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
                    s >> 32,
                    (s >> 16) & 0xffff,
                    s & 0xfff,
                    (s >> 48) & 0xffff ^ 0x8000,
                    s.rotate_left(17) & 0xffff_ffff_ffff
                )
            };
            let price = if r.negative_price { -p.price } else { p.price };
            let rec = [
                format_time(r.time_ms),
                r.kind.as_str().to_string(),
                p.id.to_string(),
                p.category_id.to_string(),
                p.category_code.as_deref().unwrap_or("").to_string(),
                p.brand.as_deref().unwrap_or("").to_string(),
                format!("{price:.2}"),
                users[r.user as usize].id.to_string(),
                sid,
            ];
            wtr.write_record(&rec).map_err(csv_err)?;
            summary.rows += 1;
            summary.rows_without_session_id += r.no_session_id as u64;
            summary.negative_price_rows += r.negative_price as u64;
            if rng.random_bool(cfg.duplicate_rate) {
                wtr.write_record(&rec).map_err(csv_err)?;
                summary.rows += 1;
                summary.duplicate_rows += 1;
            }
        }
        written += rows.len() as u64;
        if let Some(b) = &bar {
            b.set_position(written);
        }
    }
    wtr.into_inner()
        .map_err(|e| Error::write(out, e.into_error()))?
        .finish()?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let total: u64 = counts.iter().sum();
    summary.share = counts.map(|c| c as f64 / total.max(1) as f64);
    summary.mean_session_events = session_events as f64 / summary.sessions.max(1) as f64;
    summary.sessions_with_purchase /= summary.sessions.max(1) as f64;
    summary.users_who_buy = buyers.iter().filter(|&&b| b).count() as f64 / n_users as f64;
    summary.bayes = bayes.finish();
    Ok(summary)
}

/// Sessions of `process` as the real sample would show them: sessions arrive from `lead`
/// before `t0` on (Poisson, `per_minute`), and only events in `[t0, t0 + span)` are kept, so
/// sessions are cut at both edges exactly like the first 999 events of a month. For the
/// side-by-side table against real December.
pub fn sample_like(
    process: &Process,
    cat: &Catalog,
    t0: i64,
    span_ms: i64,
    per_minute: f64,
    seed: u64,
) -> Vec<Vec<Event>> {
    let mut rng = StdRng::seed_from_u64(seed);
    let world = World::default();
    let lead = 3 * 3_600_000;
    let mut t = t0 - lead;
    let mut out = Vec::new();
    while t < t0 + span_ms {
        t += ((-(1.0 - rng.random::<f64>()).ln() / per_minute) * 60_000.0) as i64;
        let user = User {
            id: rng.random_range(100_000_000..700_000_000),
            favourite: rng.random_bool(0.7).then(|| cat.random_brand(&mut rng)),
        };
        let sim = simulate(process, &world, cat, &user, t, &mut rng);
        let kept: Vec<Event> = sim
            .events
            .into_iter()
            .map(|(e, _)| e)
            .filter(|e| (t0..t0 + span_ms).contains(&e.time_ms))
            .collect();
        if !kept.is_empty() {
            out.push(kept);
        }
    }
    out
}

/// The gap bin edges, re-exported for the fit table.
pub const GAP_BINS: usize = N_GAP;

/// The bin of a gap (ms), re-exported for the fit table.
pub fn bin_of(gap_ms: i64) -> usize {
    gap_bin(gap_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(kind: EventKind, brand: &str, t: i64) -> Event {
        Event {
            time_ms: 1_570_000_000_000 + t * 1000,
            kind,
            product_id: 1,
            brand: Some(Arc::from(brand)),
            price: 4.0,
            category_code: None,
        }
    }

    #[test]
    fn effects_tilt_the_kind_distribution_only_when_on() {
        let carts: Vec<Event> = (0..2).map(|i| ev(EventKind::Cart, "a", i)).collect();
        assert_eq!(World::default().adjust(&carts), [0.0; 4]);
        // 1_570_000_000_000 ms is 2019-10-02; make that day a promotion day.
        let promo = Effects {
            calendar: Some(Calendar {
                promo: vec!["2019-10-02".into()],
                holiday: vec![],
            }),
            brand_appeal: false,
        };
        assert!(promo.world().adjust(&carts)[3] > 0.0);
        let before = Effects {
            calendar: Some(Calendar {
                promo: vec!["2019-10-04".into()],
                holiday: vec![],
            }),
            brand_appeal: false,
        };
        assert!(before.world().adjust(&carts)[3] < 0.0);
        let appeal = Effects {
            calendar: None,
            brand_appeal: true,
        }
        .world();
        let (good, bad) = ["a", "b", "c", "d", "e", "f", "g", "h"].iter().fold(
            (("", -2.0), ("", 2.0)),
            |(g, b), &x| {
                let v = brand_appeal(x);
                (
                    if v > g.1 { (x, v) } else { g },
                    if v < b.1 { (x, v) } else { b },
                )
            },
        );
        let with =
            |brand: &str| -> Vec<Event> { (0..2).map(|i| ev(EventKind::Cart, brand, i)).collect() };
        assert!(appeal.adjust(&with(good.0))[3] > appeal.adjust(&with(bad.0))[3]);
        assert!((-1.0..=1.0).contains(&brand_appeal("runail")));
        let p = tilt(&[0.25; 4], &[0.0, 0.0, 0.0, 1.0]);
        assert!(p[3] > p[0] && (p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn gaps_land_in_their_bins() {
        let mut rng = StdRng::seed_from_u64(3);
        for bin in 0..GAP_BINS {
            for _ in 0..200 {
                assert_eq!(bin_of(gap_seconds(bin, &mut rng) * 1000), bin);
            }
        }
    }
}
