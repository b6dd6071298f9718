//! `nextevent-train`: the native training toolkit's command line (feature `train`):
//! generate synthetic data, ingest Kaggle CSVs, train + export + card, and `ship`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use nextevent::card::{run, run_record, sidecar, PipelineOptions};
use nextevent::model::ModelConfig;
use nextevent::synth::{generate, Catalog, GenConfig};
use nextevent::tracking::Tracker;
use nextevent::train::TrainConfig;

#[derive(Parser)]
#[command(
    name = "nextevent-train",
    version,
    about = "Train, export and evaluate nextevent's CNN+BiGRU next-event model"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(clap::Args, Clone)]
struct Shared {
    /// The shop's product table.
    #[arg(long, default_value = "../shared/data/cosmetics-products.csv")]
    products: PathBuf,
    /// Real events (prices are taken from here).
    #[arg(long, default_value = "../shared/data/cosmetics-sample.csv")]
    sample: PathBuf,
}

#[derive(clap::Args, Clone)]
struct TrainArgs {
    /// Output directory for `<stem>.onnx`, `<stem>.fp32.onnx` and the card.
    #[arg(long, default_value = "models")]
    out_dir: PathBuf,
    /// File stem of the outputs.
    #[arg(long, default_value = "nextevent")]
    stem: String,
    /// Maximum epochs (default 8 for `train`, 10 for `ship`).
    #[arg(long)]
    epochs: Option<usize>,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    #[arg(long, default_value_t = 256)]
    batch_size: usize,
    /// Windows drawn per epoch (default: all training windows).
    #[arg(long)]
    windows_per_epoch: Option<usize>,
    /// Validation windows evaluated per epoch (default: all).
    #[arg(long)]
    valid_windows: Option<usize>,
    #[arg(long, default_value_t = 32)]
    hidden: usize,
    #[arg(long, default_value_t = 32)]
    conv_channels: usize,
    #[arg(long, default_value_t = 8)]
    embed_dim: usize,
    /// One line on where the data came from, for the model card.
    #[arg(long)]
    provenance: Option<String>,
    /// No progress bars.
    #[arg(long)]
    quiet: bool,
}

#[derive(Subcommand)]
enum Cmd {
    /// Write a synthetic Kaggle-schema CSV (`.gz` to compress) and its `.synth.json` sidecar.
    Generate {
        #[arg(long, default_value_t = 100_000)]
        rows: u64,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        shared: Shared,
    },
    /// Ingest Kaggle CSV files (plain or .gz) and print the report.
    Ingest { files: Vec<PathBuf> },
    /// Ingest, train, export (int8 + fp32), verify and write the model card.
    Train {
        files: Vec<PathBuf>,
        #[command(flatten)]
        args: TrainArgs,
    },
    /// Regenerate the shipped model: generate data, then train into models/ (defaults:
    /// 1.5 M rows, up to 10 epochs of 300,000 windows, 50,000 validation windows per epoch).
    Ship {
        #[arg(long, default_value_t = 1_500_000)]
        rows: u64,
        #[arg(long, default_value = "target/nextevent-data")]
        data_dir: PathBuf,
        #[command(flatten)]
        shared: Shared,
        #[command(flatten)]
        args: TrainArgs,
    },
}

fn train_config(a: &TrainArgs) -> TrainConfig {
    TrainConfig {
        model: ModelConfig {
            embed_dim: a.embed_dim,
            conv_channels: a.conv_channels,
            hidden: a.hidden,
        },
        epochs: a.epochs.unwrap_or(8),
        batch_size: a.batch_size,
        seed: a.seed,
        windows_per_epoch: a.windows_per_epoch,
        valid_windows: a.valid_windows,
        progress: !a.quiet,
        ..TrainConfig::default()
    }
}

fn gen(rows: u64, seed: u64, out: &std::path::Path, shared: &Shared) -> nextevent::Result<()> {
    let cat = Catalog::load(&shared.products, &shared.sample, seed)?;
    let cfg = GenConfig {
        rows,
        seed,
        ..GenConfig::default()
    };
    let t = std::time::Instant::now();
    let s = generate(&cat, &cfg, out, true)?;
    let json = serde_json::json!({ "config": cfg, "summary": s, "products": shared.products, "sample": shared.sample });
    std::fs::write(
        sidecar(out),
        serde_json::to_string_pretty(&json).expect("json"),
    )?;
    eprintln!(
        "wrote {} rows ({} sessions, {} users) to {} in {:.1} s\n  shares view/cart/remove/purchase {:.1} / {:.1} / {:.1} / {:.1} %\n  {:.2} events per session, {:.1} % sessions with a purchase, {:.1} % users buy\n  Bayes-optimal on the last 20 % of time ({} windows): accuracy {:.4}, macro-F1 {:.4} (expected accuracy {:.4})",
        s.rows, s.sessions, s.users, out.display(), t.elapsed().as_secs_f64(),
        s.share[0] * 100.0, s.share[1] * 100.0, s.share[2] * 100.0, s.share[3] * 100.0,
        s.mean_session_events, s.sessions_with_purchase * 100.0, s.users_who_buy * 100.0,
        s.bayes.windows, s.bayes.accuracy, s.bayes.macro_f1, s.bayes.expected_accuracy
    );
    Ok(())
}

fn train_and_report(
    files: Vec<PathBuf>,
    a: &TrainArgs,
    default_provenance: String,
) -> nextevent::Result<()> {
    let opts = PipelineOptions {
        inputs: files,
        out_dir: a.out_dir.clone(),
        stem: a.stem.clone(),
        train: train_config(a),
        verify_windows: 2048,
        provenance: a.provenance.clone().unwrap_or(default_provenance),
    };
    let tracker = Tracker::from_env("nextevent", &a.out_dir.join("runs"))?;
    let r = run(&opts)?;
    let logged = tracker.log_run(&run_record(
        &r,
        &opts,
        &format!("cnn_bigru seed {}", a.seed),
    ))?;
    eprintln!(
        "tracked in {}: run {} ({})",
        tracker.describe(),
        logged.run_id,
        logged.location
    );
    eprintln!(
        "test ({} windows): int8 accuracy {:.4}, macro-F1 {:.4}; fp32 {:.4} / {:.4}; Markov-1 {:.4} / {:.4}{}\nexport check: fp32 max |Δp| {:.2e}, int8 max |Δp| {:.2e}, int8 argmax agreement {:.4}\nwrote {} ({} bytes) and {}/{}.card.md",
        r.test_int8.n, r.test_int8.accuracy, r.test_int8.macro_f1, r.test_fp32.accuracy, r.test_fp32.macro_f1,
        r.baselines[1].1.accuracy, r.baselines[1].1.macro_f1,
        r.bayes.as_ref().map_or(String::new(), |b| format!("; Bayes-optimal {:.4} / {:.4}", b.accuracy, b.macro_f1)),
        r.verify_fp32.max_abs_diff, r.verify_int8.max_abs_diff, r.verify_int8.argmax_agreement,
        r.onnx_path, r.bytes_int8, a.out_dir.display(), a.stem
    );
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.cmd {
        Cmd::Generate {
            rows,
            seed,
            out,
            shared,
        } => gen(rows, seed, &out, &shared),
        Cmd::Ingest { files } => {
            nextevent::ingest::ingest(&files, true).map(|ds| println!("{}", ds.report))
        }
        Cmd::Train { files, args } => {
            let p = format!(
                "{} (Kaggle schema)",
                files
                    .iter()
                    .map(|f| f.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            train_and_report(files, &args, p)
        }
        Cmd::Ship {
            rows,
            data_dir,
            shared,
            mut args,
        } => (|| {
            args.windows_per_epoch = args.windows_per_epoch.or(Some(300_000));
            args.valid_windows = args.valid_windows.or(Some(50_000));
            args.epochs = args.epochs.or(Some(10));
            std::fs::create_dir_all(&data_dir)?;
            let out = data_dir.join(format!("generated-{rows}-seed{}.csv.gz", args.seed));
            if !out.exists() || !sidecar(&out).exists() {
                gen(rows, args.seed, &out, &shared)?;
            }
            let p = format!(
                "SYNTHETIC data: {rows} Kaggle-schema rows from nextevent's generator (seed {}), with real product ids, brands and prices from the shop's product table and the 4,995-row real sample; not the real 20.7 M-row dataset",
                args.seed
            );
            train_and_report(vec![out], &args, p)
        })(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
