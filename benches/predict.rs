//! Criterion benchmark of the native predictor: model load, encode + predict for one sequence
//! and for a batch of 256, and the encoder and the model run alone
//! (`cargo bench --bench predict`).

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use nextevent::core::predict::Predictor;
use nextevent::{Event, EventKind};

/// 256 deterministic 16-event sequences with mixed kinds, brands, prices and gaps.
fn sequences() -> Vec<Vec<Event>> {
    let brands: Vec<Arc<str>> = ["runail", "irisk", "grattol", "masura", "estel"]
        .iter()
        .map(|b| Arc::from(*b))
        .collect();
    (0..256u64)
        .map(|s| {
            let mut t = 1_575_000_000 + s as i64 * 3_600;
            (0..16u64)
                .map(|i| {
                    let x = s.wrapping_mul(2_654_435_761).wrapping_add(i * 40_503);
                    t += 5 + (x % 120) as i64;
                    Event {
                        time_ms: t * 1000,
                        kind: EventKind::ALL[((x >> 3) % 4) as usize],
                        product_id: 5_800_000 + x % 50_000,
                        brand: (x % 7 != 0).then(|| brands[(x % 5) as usize].clone()),
                        price: 1.0 + (x % 4_000) as f32 / 100.0,
                        category_code: None,
                    }
                })
                .collect()
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let p = Predictor::embedded().expect("shipped model");
    let seqs = sequences();
    let refs: Vec<&[Event]> = seqs.iter().map(Vec::as_slice).collect();
    let one = &seqs[0];
    let batch = p.encode(&refs);

    let mut g = c.benchmark_group("load");
    g.sample_size(20);
    g.bench_function("model: decode, spec check, optimize batch-1 plan", |b| {
        b.iter(|| Predictor::embedded().unwrap())
    });
    g.bench_function("model: + any-batch plan (first batch call)", |b| {
        b.iter(|| {
            let p = Predictor::embedded().unwrap();
            p.predict_batch(&refs[..2]).unwrap()
        })
    });
    g.finish();

    let mut g = c.benchmark_group("batch 1");
    g.throughput(Throughput::Elements(1));
    g.bench_function("encode + predict", |b| {
        b.iter(|| p.predict(black_box(one)).unwrap())
    });
    g.bench_function("encode only", |b| {
        b.iter(|| p.encode(black_box(&refs[..1])))
    });
    let b1 = p.encode(&refs[..1]);
    g.bench_function("model run only", |b| {
        b.iter(|| p.run_raw(black_box(&b1)).unwrap())
    });
    g.finish();

    let mut g = c.benchmark_group("batch 256");
    g.throughput(Throughput::Elements(256));
    g.bench_function("encode + predict", |b| {
        b.iter(|| p.predict_batch(black_box(&refs)).unwrap())
    });
    g.bench_function("encode only", |b| b.iter(|| p.encode(black_box(&refs))));
    g.bench_function("model run only", |b| {
        b.iter(|| p.run_raw(black_box(&batch)).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
