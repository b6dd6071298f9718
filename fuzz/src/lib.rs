//! Shared pieces of the fuzz targets: adversarial events built from fuzzer bytes, and the
//! graph mutations of the structure-aware model target.

pub mod graph;

use std::sync::Arc;

use arbitrary::{Arbitrary, Unstructured};
use nextevent::{Event, EventKind};

/// An event whose every field the fuzzer picks: any time, any price bit pattern (NaN, ±inf,
/// subnormal, negative), any product id, any brand text (long, unicode, control characters).
#[derive(Debug)]
pub struct AnyEvent(pub Event);

impl<'a> Arbitrary<'a> for AnyEvent {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        // Mostly plausible times (2019–2021, seconds apart) so sequences get past validation
        // often enough to reach the encoder and the model; sometimes any i64.
        let time_ms = if u.ratio(1, 8)? {
            i64::arbitrary(u)?
        } else {
            1_569_888_000_000 + i64::from(u.int_in_range(0u32..=u32::MAX)?) * 20
        };
        let kind = EventKind::ALL[usize::from(u.int_in_range(0u8..=3)?)];
        let price = if u.ratio(1, 4)? {
            f32::from_bits(u32::arbitrary(u)?)
        } else {
            f32::from(u.int_in_range(0u16..=u16::MAX)?) / 100.0
        };
        let brand: Option<String> = Option::arbitrary(u)?;
        let category_code: Option<String> = Option::arbitrary(u)?;
        Ok(AnyEvent(Event {
            time_ms,
            kind,
            product_id: u64::arbitrary(u)?,
            brand: brand.map(Arc::from),
            price,
            category_code: category_code.map(Arc::from),
        }))
    }
}

/// A sequence of up to `max` fuzzer-chosen events, sorted by time half of the time (so that
/// both the in-order path and the out-of-order error are exercised).
pub fn events(u: &mut Unstructured<'_>, max: usize) -> arbitrary::Result<Vec<Event>> {
    let n = u.int_in_range(0..=max)?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(AnyEvent::arbitrary(u)?.0);
    }
    if bool::arbitrary(u)? {
        out.sort_by_key(|e| e.time_ms);
    }
    Ok(out)
}
