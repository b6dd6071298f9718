//! The one encoder: the last T events of a sequence → the model's input tensors. Training,
//! evaluation, the browser and the JS API all call this, so they cannot drift apart.

use crate::core::context::{CalendarIndex, N_CONTEXT};
use crate::core::event::{Event, EventKind};
use crate::core::spec::{BRAND_BUCKETS, BRAND_HASH_SEED, N_FEATURES, WINDOW};

/// Encoded inputs for a batch: `features` is `[n, WINDOW, N_FEATURES]` row-major and
/// `brands` is `[n, WINDOW]` brand buckets, both oldest event first, left-padded; `context`
/// is `[n, WINDOW, N_CONTEXT]` for models trained with a calendar, otherwise empty.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    pub n: usize,
    pub features: Vec<f32>,
    pub brands: Vec<i64>,
    pub context: Vec<f32>,
}

impl Batch {
    /// An empty batch with room for `n` windows.
    pub fn with_capacity(n: usize) -> Self {
        Batch {
            n: 0,
            features: Vec::with_capacity(n * WINDOW * N_FEATURES),
            brands: Vec::with_capacity(n * WINDOW),
            context: Vec::new(),
        }
    }

    /// Appends the encoding of the last `WINDOW` events of `events` (which must be non-empty,
    /// valid and in time order — the predictor checks that before calling).
    pub fn push(&mut self, events: &[Event]) {
        let f0 = self.features.len();
        let b0 = self.brands.len();
        self.features.resize(f0 + WINDOW * N_FEATURES, 0.0);
        self.brands.resize(b0 + WINDOW, 0);
        encode_into(events, &mut self.features[f0..], &mut self.brands[b0..]);
        self.n += 1;
    }

    /// [`Batch::push`], plus the context features from `calendar` when it is given. A batch
    /// holds context for all its windows or for none.
    pub fn push_with(&mut self, events: &[Event], calendar: Option<&CalendarIndex>) {
        if let Some(cal) = calendar {
            let c0 = self.context.len();
            self.context.resize(c0 + WINDOW * N_CONTEXT, 0.0);
            cal.encode_into(events, WINDOW, &mut self.context[c0..]);
        }
        self.push(events);
    }

    /// Windows `from..to` as a batch of their own.
    pub fn slice(&self, from: usize, to: usize) -> Batch {
        let ctx = if self.context.is_empty() {
            Vec::new()
        } else {
            self.context[from * WINDOW * N_CONTEXT..to * WINDOW * N_CONTEXT].to_vec()
        };
        Batch {
            n: to - from,
            features: self.features[from * WINDOW * N_FEATURES..to * WINDOW * N_FEATURES].to_vec(),
            brands: self.brands[from * WINDOW..to * WINDOW].to_vec(),
            context: ctx,
        }
    }

    /// Encodes one window into a batch of one.
    pub fn single(events: &[Event]) -> Self {
        let mut b = Batch::with_capacity(1);
        b.push(events);
        b
    }
}

/// Hash bucket of a brand: 0 for none, else 1..BRAND_BUCKETS. FNV-1a 64 over the trimmed,
/// lower-cased brand, seeded, so "Runail " and "runail" share a bucket.
pub fn brand_bucket(brand: Option<&str>) -> i64 {
    let Some(b) = brand.map(str::trim).filter(|b| !b.is_empty()) else {
        return 0;
    };
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ BRAND_HASH_SEED;
    for c in b.chars().flat_map(char::to_lowercase) {
        let mut buf = [0u8; 4];
        for byte in c.encode_utf8(&mut buf).bytes() {
            h ^= byte as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    (h % (BRAND_BUCKETS as u64 - 1)) as i64 + 1
}

fn same_brand(a: &Option<std::sync::Arc<str>>, b: &Option<std::sync::Arc<str>>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.trim().eq_ignore_ascii_case(b.trim()),
        _ => false,
    }
}

/// Writes one window into `feat` (`WINDOW * N_FEATURES`) and `brands` (`WINDOW`); both
/// must be zeroed. Uses the last `WINDOW` events; earlier ones are ignored.
pub fn encode_into(events: &[Event], feat: &mut [f32], brands: &mut [i64]) {
    debug_assert_eq!(feat.len(), WINDOW * N_FEATURES);
    let w = &events[events.len().saturating_sub(WINDOW)..];
    let pad = WINDOW - w.len();
    let mean_price = if w.is_empty() {
        0.0
    } else {
        w.iter().map(|e| e.price as f64).sum::<f64>() / w.len() as f64
    };
    let start = w.first().map_or(0, |e| e.time_ms);
    let tau = std::f32::consts::TAU;
    for (i, e) in w.iter().enumerate() {
        let row = &mut feat[(pad + i) * N_FEATURES..(pad + i + 1) * N_FEATURES];
        row[0] = 1.0;
        row[1 + e.kind.index()] = 1.0;
        row[5] = e.price.max(0.0).ln_1p();
        row[6] = if mean_price > 0.0 {
            ((e.price as f64 / mean_price) as f32).min(10.0)
        } else {
            1.0
        };
        let h = e.hour_of_day() / 24.0;
        row[7] = (tau * h).sin();
        row[8] = (tau * h).cos();
        let d = e.weekday() as f32 / 7.0;
        row[9] = (tau * d).sin();
        row[10] = (tau * d).cos();
        let gap_s = if i == 0 {
            0.0
        } else {
            // Saturating: the encoder is total even on unvalidated times (found by fuzzing).
            (e.time_ms.saturating_sub(w[i - 1].time_ms).max(0) as f32) / 1000.0
        };
        row[11] = gap_s.ln_1p();
        row[12] = w[..i].iter().any(|p| p.product_id == e.product_id) as u8 as f32;
        row[13] = w[..i].iter().any(|p| same_brand(&p.brand, &e.brand)) as u8 as f32;
        row[14] = e.brand.as_deref().is_some_and(|b| !b.trim().is_empty()) as u8 as f32;
        row[15] = ((e.time_ms.saturating_sub(start).max(0) as f32) / 1000.0).ln_1p();
        // Shoppers act in runs (several views, carts, removes; one purchase row per item).
        let run = w[..i].iter().rev().take_while(|p| p.kind == e.kind).count() + 1;
        row[16] = (run as f32).ln_1p();
        let same_kind = w[..i].iter().filter(|p| p.kind == e.kind).count() + 1;
        row[17] = (same_kind as f32).ln_1p();
        row[18] = (i > 0 && w[i - 1].product_id == e.product_id) as u8 as f32;
        row[19] = w[..i]
            .iter()
            .any(|p| p.kind == EventKind::Cart && p.product_id == e.product_id)
            as u8 as f32;
        row[20] = w[..i]
            .iter()
            .rev()
            .find(|p| p.kind == e.kind)
            .map_or(0.0, |p| {
                ((e.time_ms.saturating_sub(p.time_ms).max(0) as f32) / 1000.0).ln_1p()
            });
        brands[pad + i] = brand_bucket(e.brand.as_deref());
    }
}

/// The kind of the last event, if any (used by baselines and the demo).
pub fn last_kind(events: &[Event]) -> Option<EventKind> {
    events.last().map(|e| e.kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::spec::FEATURES;
    use std::sync::Arc;

    fn ev(t: i64, kind: EventKind, product: u64, brand: Option<&str>, price: f32) -> Event {
        Event {
            time_ms: t,
            kind,
            product_id: product,
            brand: brand.map(Arc::from),
            price,
            category_code: None,
        }
    }

    /// Regression for the fuzz crash `encoder/crash-38c73acc…` (cargo fuzz with overflow
    /// checks): times far apart overflowed the gap subtraction. Unvalidated events must still
    /// encode, with the gaps saturating rather than wrapping around to zero.
    #[test]
    fn extreme_times_saturate_instead_of_overflowing() {
        let events = vec![
            ev(i64::MIN, EventKind::View, 1, None, 1.0),
            ev(i64::MAX, EventKind::Cart, 1, None, 1.0),
        ];
        let b = Batch::single(&events);
        assert!(b.features.iter().all(|x| x.is_finite()));
        let last = &b.features[(WINDOW - 1) * N_FEATURES..];
        // ln(1 + 1.8e16 s) ≈ 37.4; a wrapped difference would give -1 ms, clamped to 0.
        assert!(last[11] > 30.0, "gap feature {}", last[11]);
        assert!(last[15] > 30.0, "since-start feature {}", last[15]);
    }

    #[test]
    fn pads_left_and_marks_events() {
        let t0 = 1_570_000_000_000; // 2019-10-02 07:06:40 UTC, a Wednesday
        let events = vec![
            ev(t0, EventKind::View, 1, Some("runail"), 4.0),
            ev(t0 + 10_000, EventKind::Cart, 1, Some("Runail"), 4.0),
            ev(t0 + 70_000, EventKind::View, 2, None, 12.0),
        ];
        let b = Batch::single(&events);
        assert_eq!(b.features.len(), WINDOW * N_FEATURES);
        let row = |i: usize| &b.features[i * N_FEATURES..(i + 1) * N_FEATURES];
        for i in 0..WINDOW - 3 {
            assert!(row(i).iter().all(|&x| x == 0.0));
            assert_eq!(b.brands[i], 0);
        }
        let (r0, r1, r2) = (row(WINDOW - 3), row(WINDOW - 2), row(WINDOW - 1));
        assert_eq!(r0[0], 1.0);
        assert_eq!(&r1[1..5], &[0.0, 1.0, 0.0, 0.0]);
        assert!((r2[5] - 13f32.ln()).abs() < 1e-6);
        assert!((r2[6] - 12.0 / (20.0 / 3.0)).abs() < 1e-5);
        assert!((r1[11] - 11f32.ln()).abs() < 1e-6, "log1p(10 s)");
        assert_eq!(
            (r1[12], r1[13], r1[14]),
            (1.0, 1.0, 1.0),
            "same product, brand case-insensitive"
        );
        assert_eq!((r2[12], r2[13], r2[14]), (0.0, 0.0, 0.0));
        assert!((r2[15] - 71f32.ln()).abs() < 1e-6);
        // view, cart, view: runs of 1; the second view is the second of its kind, 70 s
        // after the first; the cart repeats the viewed product, and that product was not
        // carted before the cart itself.
        assert_eq!(r1[16], 2f32.ln(), "run of one");
        assert_eq!((r2[17], r1[17]), (3f32.ln(), 2f32.ln()), "counts of kind");
        assert_eq!((r1[18], r2[18]), (1.0, 0.0), "same product as previous");
        assert_eq!((r1[19], r2[19]), (0.0, 0.0), "carted before");
        assert!(
            (r2[20] - 71f32.ln()).abs() < 1e-6,
            "70 s since the last view"
        );
        assert_eq!(r0[20], 0.0, "no earlier event of its kind");
        assert_eq!(b.brands[WINDOW - 3], b.brands[WINDOW - 2]);
        assert_eq!(b.brands[WINDOW - 1], 0);
        assert_eq!(FEATURES.len(), N_FEATURES);
    }

    #[test]
    fn context_is_encoded_beside_the_features_and_slices_with_them() {
        let t0 = 1_574_985_600_000; // 2019-11-29 00:00 UTC, a promotion day in the example
        let cal = crate::core::context::Calendar::kaggle_period_example().index();
        let events = vec![
            ev(t0 - 3_600_000, EventKind::View, 1, None, 1.0),
            ev(t0 + 60_000, EventKind::Cart, 1, None, 1.0),
        ];
        let mut b = Batch::with_capacity(2);
        b.push_with(&events, Some(&cal));
        b.push_with(&events[..1], Some(&cal));
        assert_eq!(b.context.len(), 2 * WINDOW * N_CONTEXT);
        let ctx = |w: usize, i: usize| &b.context[(w * WINDOW + i) * N_CONTEXT..][..N_CONTEXT];
        assert_eq!(
            ctx(0, WINDOW - 2),
            &[0.0, 0.0, 1.0],
            "the day before: promo ahead"
        );
        assert_eq!(
            ctx(0, WINDOW - 1),
            &[1.0, 0.0, 1.0],
            "on the day, with 30 November (also a promotion) ahead"
        );
        assert_eq!(ctx(0, 0), &[0.0, 0.0, 0.0], "padding");
        let one = b.slice(1, 2);
        assert_eq!(one.n, 1);
        assert_eq!(one.context.len(), WINDOW * N_CONTEXT);
        assert_eq!(one.features, Batch::single(&events[..1]).features);
        assert!(Batch::single(&events).context.is_empty());
    }

    #[test]
    fn keeps_only_the_last_window() {
        let t0 = 1_570_000_000_000;
        let long: Vec<Event> = (0..40)
            .map(|i| ev(t0 + i * 1000, EventKind::View, i as u64, None, 1.0))
            .collect();
        let a = Batch::single(&long);
        let b = Batch::single(&long[40 - WINDOW..]);
        assert_eq!(a, b);
        assert!(a.features.chunks(N_FEATURES).all(|r| r[0] == 1.0));
    }

    #[test]
    fn brand_buckets_are_stable_and_in_range() {
        assert_eq!(brand_bucket(None), 0);
        assert_eq!(brand_bucket(Some("  ")), 0);
        assert_eq!(brand_bucket(Some("Runail")), brand_bucket(Some(" runail ")));
        let all: Vec<i64> = [
            "runail", "irisk", "masura", "grattol", "estel", "ingarden", "kapous",
        ]
        .iter()
        .map(|b| brand_bucket(Some(b)))
        .collect();
        assert!(all.iter().all(|&b| (1..BRAND_BUCKETS as i64).contains(&b)));
        // Pinned: a change here changes the spec and must bump SPEC_VERSION.
        assert_eq!(brand_bucket(Some("runail")), PINNED_RUNAIL_BUCKET);
    }
    const PINNED_RUNAIL_BUCKET: i64 = 13;

    #[test]
    fn run_features_follow_runs_and_carted_products() {
        let t0 = 1_570_000_000_000;
        let k = [
            EventKind::Cart,
            EventKind::Cart,
            EventKind::Cart,
            EventKind::RemoveFromCart,
            EventKind::RemoveFromCart,
        ];
        let events: Vec<Event> = k
            .iter()
            .enumerate()
            .map(|(i, &kind)| ev(t0 + i as i64 * 2000, kind, 7 + (i as u64 % 2), None, 1.0))
            .collect();
        let b = Batch::single(&events);
        let row = |i: usize| &b.features[(WINDOW - 5 + i) * N_FEATURES..][..N_FEATURES];
        let runs: Vec<f32> = (0..5).map(|i| row(i)[16].exp_m1().round()).collect();
        assert_eq!(runs, [1.0, 2.0, 3.0, 1.0, 2.0]);
        // Products 7, 8, 7, 8, 7: each remove's product was carted earlier.
        assert_eq!((row(3)[19], row(4)[19]), (1.0, 1.0));
        assert_eq!(row(2)[19], 1.0, "product 7 was carted by the first event");
        assert_eq!(row(1)[19], 0.0);
        assert!(
            (row(4)[20] - 3f32.ln()).abs() < 1e-6,
            "2 s since the previous remove"
        );
    }
}
