//! Synthetic Kaggle-schema events at any scale: real products,
//! brands and prices from `../shared/data`, event shares and session lengths near the
//! published figures, and a known next-event process so the Bayes-optimal limit is exact.

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
/// neither). With them, the process depends on things only context features or a brand-level
/// signal can see, which is what the external-context and brand-embedding experiments need.
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

/// A brand's hidden appeal in [-1, 1] (a hash, independent of the encoder's brand buckets).
pub fn brand_appeal(brand: &str) -> f64 {
    let mut h: u64 = 0x9e37_79b9_7f4a_7c15;
    for b in brand.trim().to_lowercase().bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (h % 2001) as f64 / 1000.0 - 1.0
}

/// Observable summary of a window that drives the process.
struct WindowStats {
    last: EventKind,
    prev: Option<EventKind>,
    net_cart: i32,
    removes: usize,
    same_brand_carts: usize,
    last_price_rel: f32,
    evening: bool,
    last_gap_s: f32,
}

fn stats(window: &[Event]) -> WindowStats {
    let w = &window[window.len().saturating_sub(WINDOW)..];
    let last = w[w.len() - 1].kind;
    let prev = (w.len() > 1).then(|| w[w.len() - 2].kind);
    let count = |k| w.iter().filter(|e| e.kind == k).count() as i32;
    let net_cart =
        (count(EventKind::Cart) - count(EventKind::RemoveFromCart) - count(EventKind::Purchase))
            .max(0);
    let mut per_brand: HashMap<&str, usize> = HashMap::new();
    for e in w.iter().filter(|e| e.kind == EventKind::Cart) {
        if let Some(b) = e.brand.as_deref() {
            *per_brand.entry(b).or_default() += 1;
        }
    }
    let mean = w.iter().map(|e| e.price).sum::<f32>() / w.len() as f32;
    let l = &w[w.len() - 1];
    let hour = l.hour_of_day();
    WindowStats {
        last,
        prev,
        net_cart,
        removes: count(EventKind::RemoveFromCart) as usize,
        same_brand_carts: per_brand.values().copied().max().unwrap_or(0),
        last_price_rel: if mean > 0.0 { l.price / mean } else { 1.0 },
        evening: (15.0..21.0).contains(&hour),
        last_gap_s: if w.len() > 1 {
            (l.time_ms - w[w.len() - 2].time_ms) as f32 / 1000.0
        } else {
            0.0
        },
    }
}

/// The generator's true distribution of the next event's kind given the last `WINDOW`
/// events (class order), without optional effects. The Bayes-optimal predictor is its argmax.
pub fn next_kind_probs(window: &[Event]) -> [f64; 4] {
    next_kind_probs_in(window, &World::default())
}

/// [`next_kind_probs`] in a world with optional [`Effects`].
pub fn next_kind_probs_in(window: &[Event], world: &World) -> [f64; 4] {
    let s = stats(window);
    let mut l: [f64; 4] = match s.last {
        EventKind::View => [2.0, 0.9, 0.1, -3.6],
        EventKind::Cart => [0.9, 1.6, 0.9, -3.3],
        EventKind::RemoveFromCart => [0.6, 0.1, 2.3, -2.8],
        EventKind::Purchase => [0.2, -0.4, -0.8, 4.8],
    };
    if s.net_cart == 0 {
        l[2] -= 1.2;
        l[3] -= if s.last == EventKind::Purchase {
            1.0
        } else {
            2.5
        };
    }
    // Checkout: several carts of one brand lead to purchase.
    if s.same_brand_carts >= 2 {
        l[3] += 1.9 * (s.same_brand_carts.min(4) - 1) as f64;
    }
    if s.prev == Some(EventKind::Cart) && s.last == EventKind::Cart {
        l[1] += 0.5;
    }
    // An item much dearer than the rest of the window tends to be removed again.
    if s.last_price_rel > 1.6 && s.net_cart > 0 {
        l[2] += 2.0;
        l[3] -= 0.5;
    }
    if s.evening {
        l[3] += 0.8;
    }
    // After a pause the shopper browses again.
    if s.last_gap_s > 300.0 {
        l[0] += 2.0;
        l[3] -= 1.0;
    }
    // Remove sprees.
    if s.removes >= 2 {
        l[2] += 1.4;
    }
    let last = &window[window.len() - 1];
    if let Some(cal) = &world.calendar {
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
    if world.brand_appeal {
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
    let m = l.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = l.iter().map(|x| (x - m).exp()).collect();
    let z: f64 = e.iter().sum();
    [e[0] / z, e[1] / z, e[2] / z, e[3] / z]
}

/// Probability that the session ends after this window.
pub fn stop_prob(window: &[Event]) -> f64 {
    let s = stats(window);
    let base = match s.last {
        EventKind::View => 0.3,
        EventKind::Cart => {
            if s.net_cart >= 3 {
                0.06
            } else {
                0.16
            }
        }
        EventKind::RemoveFromCart => 0.2,
        EventKind::Purchase => {
            if s.net_cart == 0 {
                0.25
            } else {
                0.04
            }
        }
    };
    if window.len() >= 60 {
        0.9
    } else {
        base
    }
}

const FIRST_KIND: [f64; 4] = [0.66, 0.26, 0.06, 0.02];
/// Activity by UTC hour (the shop's evening is ~15–20 UTC).
const HOURS: [f64; 24] = [
    2., 1.5, 1., 1., 1.5, 2.5, 4., 5., 6., 6.5, 6.5, 6.5, 6.5, 7., 7., 7.5, 8., 8.5, 8.5, 8., 7.,
    5.5, 4., 3.,
];

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
    pub duplicate_rows: u64,
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
}

impl Bayes {
    /// Bayes-optimal figures on given windows (prefix, actual next kind).
    pub fn on<'a>(windows: impl Iterator<Item = (&'a [Event], EventKind)>) -> Bayes {
        Self::on_in(windows, &World::default())
    }

    /// [`Bayes::on`] for data generated with effects.
    pub fn on_in<'a>(
        windows: impl Iterator<Item = (&'a [Event], EventKind)>,
        world: &World,
    ) -> Bayes {
        let mut c = Confusion::default();
        let mut exp = 0.0;
        for (w, y) in windows {
            let p = next_kind_probs_in(w, world);
            let (i, m) = p
                .iter()
                .enumerate()
                .fold((0, 0.0), |a, (i, &v)| if v > a.1 { (i, v) } else { a });
            c.add(y.index(), i);
            exp += m;
        }
        let n = c.total();
        Bayes {
            windows: n,
            accuracy: c.accuracy(),
            macro_f1: c.macro_f1(),
            expected_accuracy: if n > 0 { exp / n as f64 } else { 0.0 },
        }
    }
}

struct User {
    id: u64,
    favourite: Option<Arc<str>>,
}

struct Row {
    time_ms: i64,
    kind: EventKind,
    product: u32,
    user: u32,
    session: u64,
    no_session_id: bool,
    negative_price: bool,
}

fn pick_product(
    kind: EventKind,
    w: &[(Event, usize)],
    user: &User,
    cat: &Catalog,
    rng: &mut StdRng,
) -> usize {
    let from_window =
        |pred: &dyn Fn(&Event) -> bool| w.iter().rev().find(|(e, _)| pred(e)).map(|(_, i)| *i);
    let carted: Vec<usize> = w
        .iter()
        .filter(|(e, _)| e.kind == EventKind::Cart)
        .map(|(_, i)| *i)
        .collect();
    let fresh = |rng: &mut StdRng| match &user.favourite {
        Some(b) if rng.random_bool(0.55) => {
            let ps = &cat.by_brand[b];
            ps[rng.random_range(0..ps.len())]
        }
        _ => cat.popular(rng),
    };
    match kind {
        EventKind::View => fresh(rng),
        EventKind::Cart => {
            if rng.random_bool(0.7) {
                from_window(&|e| e.kind == EventKind::View).unwrap_or_else(|| fresh(rng))
            } else {
                fresh(rng)
            }
        }
        EventKind::RemoveFromCart | EventKind::Purchase => {
            if carted.is_empty() {
                w.last().map(|(_, i)| *i).unwrap_or_else(|| fresh(rng))
            } else if kind == EventKind::Purchase {
                carted[0]
            } else {
                carted[rng.random_range(0..carted.len())]
            }
        }
    }
}

fn gap_ms(kind: EventKind, rng: &mut StdRng) -> i64 {
    let u: f64 = rng.random();
    let (median, sigma) = if u < 0.84 {
        (
            if kind == EventKind::Purchase {
                3.0
            } else {
                8.0
            },
            1.0,
        )
    } else if u < 0.98 {
        (70.0, 1.1)
    } else {
        (1200.0, 0.7)
    };
    let s = LogNormal::new(f64::ln(median), sigma)
        .expect("lognormal")
        .sample(rng);
    (s * 1000.0).round().max(1000.0) as i64 / 1000 * 1000
}

/// Generates `cfg.rows` Kaggle-schema rows into `out` (`.gz` → gzip), sorted by time per month.
pub fn generate(cat: &Catalog, cfg: &GenConfig, out: &Path, progress: bool) -> Result<GenSummary> {
    let mut rng = StdRng::seed_from_u64(cfg.seed);
    let n_users = ((cfg.rows as f64 / 12.6).ceil() as usize).max(1);
    let users: Vec<User> = (0..n_users)
        .map(|_| User {
            id: rng.random_range(100_000_000..700_000_000),
            favourite: rng.random_bool(0.7).then(|| cat.random_brand(&mut rng)),
        })
        .collect();
    let world = cfg.effects.world();
    let hours = WeightedIndex::new(HOURS).expect("hours");
    let first_kind = WeightedIndex::new(FIRST_KIND).expect("first");
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
    let mut bayes_c = Confusion::default();
    let mut bayes_exp = 0.0;
    let mut buyers = vec![false; n_users];
    let mut session_events = 0u64;
    let bar = progress.then(|| indicatif::ProgressBar::new(cfg.rows));
    let mut written = 0u64;
    for (mi, &(_, start, month_rows)) in MONTHS.iter().enumerate() {
        let end = MONTHS.get(mi + 1).map_or(END_MS, |m| m.1);
        let target = if mi == MONTHS.len() - 1 {
            cfg.rows - written
        } else {
            (cfg.rows as f64 * month_rows as f64 / FULL_ROWS as f64).round() as u64
        };
        let mut rows: Vec<Row> = Vec::with_capacity(target as usize + 64);
        let days = (end - start) / 86_400_000;
        while (rows.len() as u64) < target {
            let ui = rng.random_range(0..n_users);
            let user = &users[ui];
            let t0 = start
                + rng.random_range(0..days) * 86_400_000
                + hours.sample(&mut rng) as i64 * 3_600_000
                + rng.random_range(0..3600) * 1000;
            let session_id: u64 = rng.random();
            let no_id = rng.random_bool(cfg.no_session_id_rate);
            let mut w: Vec<(Event, usize)> = Vec::new();
            let mut evs: Vec<Event> = Vec::new();
            let mut kind = EventKind::ALL[first_kind.sample(&mut rng)];
            let mut t = t0;
            let mut purchased = false;
            loop {
                let pi = pick_product(kind, &w, user, cat, &mut rng);
                let p = &cat.products[pi];
                let ev = Event {
                    time_ms: t,
                    kind,
                    product_id: p.id,
                    brand: p.brand.clone(),
                    price: p.price,
                    category_code: p.category_code.clone(),
                };
                purchased |= kind == EventKind::Purchase;
                w.push((ev.clone(), pi));
                if w.len() > WINDOW {
                    w.remove(0);
                }
                evs.push(ev);
                let neg = kind == EventKind::Purchase && rng.random_bool(cfg.negative_price_rate);
                rows.push(Row {
                    time_ms: t,
                    kind,
                    product: pi as u32,
                    user: ui as u32,
                    session: session_id,
                    no_session_id: no_id,
                    negative_price: neg,
                });
                counts[kind.index()] += 1;
                if (rows.len() as u64) >= target || rng.random_bool(stop_prob(&evs)) {
                    break;
                }
                let probs = next_kind_probs_in(&evs, &world);
                kind = EventKind::ALL[WeightedIndex::new(probs).expect("probs").sample(&mut rng)];
                t += gap_ms(kind, &mut rng);
            }
            if t0 >= test_from {
                for k in 1..evs.len() {
                    let p = next_kind_probs_in(&evs[..k], &world);
                    let (i, m) =
                        p.iter()
                            .enumerate()
                            .fold((0, 0.0), |a, (i, &v)| if v > a.1 { (i, v) } else { a });
                    bayes_c.add(evs[k].kind.index(), i);
                    bayes_exp += m;
                }
            }
            buyers[ui] |= purchased;
            summary.sessions += 1;
            summary.sessions_with_purchase += purchased as u8 as f64;
            session_events += evs.len() as u64;
        }
        rows.sort_by_key(|r| r.time_ms);
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
    let n = bayes_c.total();
    summary.bayes = Bayes {
        windows: n,
        accuracy: bayes_c.accuracy(),
        macro_f1: bayes_c.macro_f1(),
        expected_accuracy: if n > 0 { bayes_exp / n as f64 } else { 0.0 },
    };
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(kind: EventKind, brand: &str, price: f32, t: i64) -> Event {
        Event {
            time_ms: 1_570_000_000_000 + t * 1000,
            kind,
            product_id: 1,
            brand: Some(Arc::from(brand)),
            price,
            category_code: None,
        }
    }

    #[test]
    fn process_has_the_documented_structure() {
        let views = vec![ev(EventKind::View, "a", 4.0, 0)];
        let p = next_kind_probs(&views);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        assert!(p[2] < 0.05, "no remove without a cart: {p:?}");
        let carts_one_brand: Vec<Event> =
            (0..3).map(|i| ev(EventKind::Cart, "a", 4.0, i)).collect();
        let carts_mixed: Vec<Event> = ["a", "b", "c"]
            .iter()
            .enumerate()
            .map(|(i, b)| ev(EventKind::Cart, b, 4.0, i as i64))
            .collect();
        assert!(
            next_kind_probs(&carts_one_brand)[3] > next_kind_probs(&carts_mixed)[3],
            "one-brand carts raise purchase odds"
        );
    }

    #[test]
    fn optional_effects_change_the_process_only_when_on() {
        // 1_570_000_000_000 ms is 2019-10-02; make that day a promotion day.
        let carts: Vec<Event> = (0..2).map(|i| ev(EventKind::Cart, "a", 4.0, i)).collect();
        let plain = next_kind_probs(&carts);
        assert_eq!(
            next_kind_probs_in(&carts, &Effects::default().world()),
            plain
        );
        let promo = Effects {
            calendar: Some(Calendar {
                promo: vec!["2019-10-02".into()],
                holiday: vec![],
            }),
            brand_appeal: false,
        };
        assert!(next_kind_probs_in(&carts, &promo.world())[3] > plain[3]);
        let before = Effects {
            calendar: Some(Calendar {
                promo: vec!["2019-10-04".into()],
                holiday: vec![],
            }),
            brand_appeal: false,
        };
        assert!(next_kind_probs_in(&carts, &before.world())[3] < plain[3]);
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
        let with = |brand: &str| -> Vec<Event> {
            (0..2).map(|i| ev(EventKind::Cart, brand, 4.0, i)).collect()
        };
        assert!(
            next_kind_probs_in(&with(good.0), &appeal)[3]
                > next_kind_probs_in(&with(bad.0), &appeal)[3]
        );
        assert!((-1.0..=1.0).contains(&brand_appeal("runail")));
    }
}
