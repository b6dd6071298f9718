//! Criterion benchmark of training throughput (windows per second through forward, backward
//! and an AdamW step, batch 256) for each architecture, on the real sample's windows
//! (`cargo bench --features train --bench train`). Each measured iteration is one epoch of
//! 2,048 windows through the real training loop (`train::train_with`); validation is excluded.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use nextevent::data::ingest::{ingest, windows_of};
use nextevent::training::fit::{train_with, TrainConfig};
use nextevent::training::net::{Arch, ModelConfig};

const WINDOWS: usize = 2048;

fn bench(c: &mut Criterion) {
    let sample = std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/data/cosmetics-sample.csv"
    ));
    let ds = ingest(&[sample], false).expect("the real sample (../shared/data)");
    let all: Vec<usize> = (0..ds.sessions.len()).collect();
    let windows = windows_of(&ds, &all);
    let mut g = c.benchmark_group("train, batch 256");
    g.throughput(Throughput::Elements(WINDOWS as u64));
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(2));
    g.measurement_time(Duration::from_secs(12));
    for arch in Arch::ALL {
        let cfg = TrainConfig {
            model: ModelConfig::of(arch),
            epochs: 1,
            windows_per_epoch: Some(WINDOWS),
            valid_windows: Some(64),
            progress: false,
            ..TrainConfig::default()
        };
        g.bench_function(arch.to_string(), |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        let t = train_with(&ds, &windows, &windows[..64], &cfg, &mut |_| {});
                        Duration::from_secs_f64(t.history[0].seconds)
                    })
                    .sum()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
