//! `nextevent-train`: the native training toolkit's command line (feature `train`):
//! generate synthetic data, ingest Kaggle CSVs, train + export + card, `ship`, and `compare`
//! (every architecture × seeds → models/COMPARISON.md).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use nextevent::core::context::Calendar;
use nextevent::data::files;
use nextevent::data::tracking::Tracker;
use nextevent::data::Result;
use nextevent::training::card::{epoch_metrics, run_record};
use nextevent::training::compare::{compare, CompareOptions, Variant};
use nextevent::training::fit::TrainConfig;
use nextevent::training::net::{Arch, ModelConfig};
use nextevent::training::pipeline::{run_with, sidecar, PipelineOptions};
use nextevent::training::ship::{ship, ShipOptions};

/// Where `ship` writes the fitted generator and `generate`, `compare` and `experiments` read it.
const GENERATOR: &str = "models/generator.json";
use nextevent::training::process::Process;
use nextevent::training::synth::{generate, Catalog, Effects, GenConfig};

#[derive(Parser)]
#[command(
    name = "nextevent-train",
    version,
    about = "Train, export, evaluate and compare nextevent's next-event models (CNN+BiGRU, LSTM, GRU, BiGRU, CNN)"
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
    /// Train with external context: this calendar's promotion days and holidays (`date,kind`
    /// CSV or JSON) become features, and the calendar is stored in the model's spec.
    #[arg(long)]
    calendar: Option<PathBuf>,
    /// Add the window's mean brand embedding to the head's input.
    #[arg(long)]
    brand_pool: bool,
    /// No linear path from the last event's features to the heads.
    #[arg(long)]
    no_skip: bool,
    /// No conversion head (P(a purchase follows later in the session)).
    #[arg(long)]
    no_conversion: bool,
    /// Architecture: cnn_bigru (shipped), lstm, gru, bigru or cnn.
    #[arg(long, default_value = "cnn_bigru", value_parser = parse_arch)]
    arch: Arch,
    /// One line on where the data came from, for the model card.
    #[arg(long)]
    provenance: Option<String>,
    /// Local run folders when MLFLOW_TRACKING_URI is not set.
    #[arg(long, default_value = "target/nextevent-runs")]
    runs_dir: PathBuf,
    /// No progress bars.
    #[arg(long)]
    quiet: bool,
}

fn parse_arch(s: &str) -> Result<Arch, String> {
    Arch::parse(s).ok_or_else(|| {
        format!(
            "unknown architecture {s:?}; expected one of {}",
            Arch::ALL.map(|a| a.as_str()).join(", ")
        )
    })
}

fn parse_seeds(s: &str) -> Result<Vec<u64>, String> {
    parse_list(s, |x| x.parse::<u64>().map_err(|e| format!("{x}: {e}")))
}

fn parse_list<T>(s: &str, one: impl Fn(&str) -> Result<T, String>) -> Result<Vec<T>, String> {
    s.split(',')
        .filter(|x| !x.trim().is_empty())
        .map(|x| one(x.trim()))
        .collect()
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
        /// Put a promotion/holiday calendar (`date,kind` CSV or JSON) into the process.
        #[arg(long)]
        calendar: Option<PathBuf>,
        /// Put the example Kaggle-period calendar into the process.
        #[arg(long, conflicts_with = "calendar")]
        example_calendar: bool,
        /// Give each brand a hidden appeal that moves purchases after carting it.
        #[arg(long)]
        brand_appeal: bool,
        /// The session process (written by `ship` from the real sample).
        #[arg(long, default_value = "models/generator.json")]
        process: PathBuf,
        /// Skip the Bayes-optimal figures (faster at tens of millions of rows).
        #[arg(long)]
        no_bayes: bool,
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
    /// Train every architecture with several seeds on the same data, split and budget; write
    /// `<out-dir>/COMPARISON.md`, `comparison.json` and `comparison.svg`; track a parent run
    /// with a child per model and seed. Without FILES, generates `--rows` rows first
    /// (defaults: 1 M rows, 3 seeds, up to 4 epochs of 150,000 windows, 20,000 validation).
    Compare {
        files: Vec<PathBuf>,
        #[arg(long, default_value_t = 1_000_000)]
        rows: u64,
        /// Seed of the generated data (the models' seeds are `--seeds`).
        #[arg(long, default_value_t = 7)]
        data_seed: u64,
        #[arg(long, default_value = "target/nextevent-data")]
        data_dir: PathBuf,
        /// Architectures, comma-separated.
        #[arg(long, default_value = "cnn_bigru,lstm,gru,bigru,cnn", value_parser = |s: &str| parse_list(s, parse_arch))]
        archs: std::vec::Vec<Arch>,
        /// Seeds, comma-separated (at least 3 for a standard deviation worth reading).
        #[arg(long, default_value = "1,2,3", value_parser = parse_seeds)]
        seeds: std::vec::Vec<u64>,
        /// File name stem of the outputs (`<NAME>.md`, `<name>.json`, `<name>.svg`).
        #[arg(long, default_value = "comparison")]
        name: String,
        /// Single-window predictions timed per model.
        #[arg(long, default_value_t = 300)]
        timing_windows: usize,
        /// On real shoppers: every architecture by the shipped model's recipe (pre-train on
        /// the fitted generator's data, fine-tune on real Oct–Nov, stop on December), scored
        /// on the real Jan–Feb windows → models/COMPARISON-REAL.md.
        #[arg(long)]
        real: bool,
        #[command(flatten)]
        shared: Shared,
        #[command(flatten)]
        args: TrainArgs,
    },
    /// The seed's future work, first step: on data generated with a promotion calendar and
    /// brand appeal in its process, train CNN+BiGRU plain, with the calendar's context
    /// features, and with the pooled brand embedding (3 seeds each, same budget) → writes
    /// `<out-dir>/EXPERIMENTS.md`, `experiments.json`, `experiments.svg`.
    Experiments {
        #[arg(long, default_value_t = 1_000_000)]
        rows: u64,
        #[arg(long, default_value_t = 11)]
        data_seed: u64,
        #[arg(long, default_value = "target/nextevent-data")]
        data_dir: PathBuf,
        #[arg(long, default_value = "1,2,3", value_parser = parse_seeds)]
        seeds: std::vec::Vec<u64>,
        #[arg(long, default_value = "experiments")]
        name: String,
        #[arg(long, default_value_t = 300)]
        timing_windows: usize,
        #[command(flatten)]
        shared: Shared,
        #[command(flatten)]
        args: TrainArgs,
    },
    /// Re-render a comparison's Markdown and chart from its JSON (e.g. models/comparison.json)
    /// with this build's wording, without retraining.
    Render { json: PathBuf },
    /// Regenerate the shipped model: fit the generator to the real sample (Oct–Nov, states
    /// chosen on December), generate `--rows` with it, pre-train on them, fine-tune on the
    /// real Oct–Nov windows (stopping and calibrating on December), then judge on the real
    /// Jan–Feb sessions. Refuses to write models/ (non-zero exit, says why) when the model's
    /// real Jan–Feb macro-F1 is below "repeat the last kind"'s or Markov-1's, or its log loss
    /// not below Markov-1's and Markov-2's. `--dev` stops after the December report.
    Ship {
        #[arg(long, default_value_t = 1_000_000)]
        rows: u64,
        #[arg(long, default_value = "target/nextevent-data")]
        data_dir: PathBuf,
        /// Most hidden states tried for the generator's process.
        #[arg(long, default_value_t = 4)]
        max_states: usize,
        /// Development run: report on December only; never evaluates Jan–Feb, writes nothing.
        #[arg(long)]
        dev: bool,
        /// Skip pre-training on generated data (fine-tune from scratch on the real windows).
        #[arg(long)]
        no_pretrain: bool,
        /// Fine-tuning learning rate.
        #[arg(long)]
        finetune_lr: Option<f64>,
        /// Fine-tuning epochs at most.
        #[arg(long)]
        finetune_epochs: Option<usize>,
        /// Class weights in the fine-tuning loss.
        #[arg(long)]
        finetune_class_weights: bool,
        #[command(flatten)]
        shared: Shared,
        #[command(flatten)]
        args: TrainArgs,
    },
}

fn train_config(a: &TrainArgs) -> Result<TrainConfig> {
    let calendar = a
        .calendar
        .as_deref()
        .map(files::read_calendar)
        .transpose()?;
    Ok(TrainConfig {
        model: ModelConfig {
            arch: a.arch,
            embed_dim: a.embed_dim,
            conv_channels: a.conv_channels,
            hidden: a.hidden,
            context: calendar.is_some(),
            brand_pool: a.brand_pool,
            skip: !a.no_skip,
            conversion: !a.no_conversion,
        },
        calendar,
        epochs: a.epochs.unwrap_or(8),
        batch_size: a.batch_size,
        seed: a.seed,
        windows_per_epoch: a.windows_per_epoch,
        valid_windows: a.valid_windows,
        progress: !a.quiet,
        ..TrainConfig::default()
    })
}

/// The fitted session process `ship` writes (`models/generator.json`).
fn process(path: &std::path::Path) -> Result<Process> {
    let text = files::read_text(path)?;
    serde_json::from_str(&text).map_err(|e| nextevent::data::Error::Input {
        path: path.to_path_buf(),
        reason: format!("not a fitted process (run `nextevent-train ship` to write one): {e}"),
    })
}

fn gen(
    rows: u64,
    seed: u64,
    out: &std::path::Path,
    shared: &Shared,
    effects: Effects,
    process_path: &std::path::Path,
    bayes: bool,
) -> Result<()> {
    let cat = Catalog::load(&shared.products, &shared.sample, seed)?;
    let process = process(process_path)?;
    let cfg = GenConfig {
        rows,
        seed,
        effects,
        bayes,
        ..GenConfig::default()
    };
    let t = std::time::Instant::now();
    let s = generate(&cat, &process, &cfg, out, true)?;
    let json = serde_json::json!({ "config": cfg, "summary": s, "process": process, "products": shared.products, "sample": shared.sample });
    files::write(
        &sidecar(out),
        serde_json::to_string_pretty(&json).expect("json"),
    )?;
    eprintln!(
        "wrote {} rows ({} sessions, {} users) to {} in {:.1} s\n  shares view/cart/remove/purchase {:.1} / {:.1} / {:.1} / {:.1} %\n  {:.2} events per session, {:.1} % sessions with a purchase, {:.1} % users buy\n  {}",
        s.rows, s.sessions, s.users, out.display(), t.elapsed().as_secs_f64(),
        s.share[0] * 100.0, s.share[1] * 100.0, s.share[2] * 100.0, s.share[3] * 100.0,
        s.mean_session_events, s.sessions_with_purchase * 100.0, s.users_who_buy * 100.0,
        if s.bayes.windows == 0 {
            "Bayes-optimal limit not computed (--no-bayes)".to_string()
        } else {
            format!(
                "Bayes-optimal on the last 20 % of time ({} windows): accuracy {:.4}, macro-F1 {:.4} (expected accuracy {:.4})",
                s.bayes.windows, s.bayes.accuracy, s.bayes.macro_f1, s.bayes.expected_accuracy
            )
        }
    );
    Ok(())
}

fn train_and_report(files: Vec<PathBuf>, a: &TrainArgs, default_provenance: String) -> Result<()> {
    let opts = PipelineOptions {
        inputs: files,
        out_dir: a.out_dir.clone(),
        stem: a.stem.clone(),
        train: train_config(a)?,
        verify_windows: 2048,
        provenance: a.provenance.clone().unwrap_or(default_provenance),
    };
    let tracker = Tracker::from_env("nextevent", &a.runs_dir)?;
    let name = format!("{} seed {}", a.arch, a.seed);
    // Started before training so each epoch's figures appear in the tracker as it ends.
    let mut active = tracker.start(&name, None, &[])?;
    let mut live_err = None;
    let r = run_with(&opts, &mut |h| {
        if let Err(e) = active.log(&[], &epoch_metrics(h)) {
            live_err.get_or_insert(e);
        }
    });
    let r = match (r, live_err) {
        (Ok(r), None) => r,
        (Ok(_), Some(e)) | (Err(e), _) => {
            let _ = active.end(false);
            return Err(e);
        }
    };
    // The run's MLflow model (`runs:/<id>/model`), servable with `mlflow models serve`.
    nextevent::data::mlflow_model::log_pyfunc_model(&active, std::path::Path::new(&r.onnx_path))?;
    let logged = active.finish(&run_record(&r, &opts, &name))?;
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

/// `ship`: runs it, tracks it, prints the December (and, unless `--dev`, the Jan–Feb)
/// report, and fails when the gate does.
fn ship_and_report(opts: &ShipOptions, args: &TrainArgs) -> Result<()> {
    let tracker = Tracker::from_env("nextevent", &args.runs_dir)?;
    let name = format!("ship {} seed {}", args.arch, args.seed);
    let mut active = tracker.start(&name, None, &[])?;
    let mut live_err = None;
    let shipped = ship(opts, &mut |stage, h| {
        let mut m = epoch_metrics(h);
        for x in &mut m {
            x.key = format!("{stage}_{}", x.key);
        }
        if let Err(e) = active.log(&[], &m) {
            live_err.get_or_insert(e);
        }
    });
    let shipped = match (shipped, live_err) {
        (Ok(s), None) => s,
        (Ok(_), Some(e)) | (Err(e), _) => {
            let _ = active.end(false);
            return Err(e);
        }
    };
    eprintln!("\n{}", shipped.real.dev.markdown());
    if let Some(t) = &shipped.real.test {
        eprintln!("{}", t.markdown());
    }
    match (&shipped.report, &shipped.gate) {
        (Some(r), Ok(())) => {
            nextevent::data::mlflow_model::log_pyfunc_model(
                &active,
                std::path::Path::new(&r.onnx_path),
            )?;
            let logged = active.finish(&ship_record(r, opts, &name))?;
            eprintln!(
                "wrote {} and the card into {}; tracked in {} (run {})",
                r.onnx_path,
                opts.out_dir.display(),
                tracker.describe(),
                logged.run_id
            );
            Ok(())
        }
        (_, Err(why)) if opts.dev_only => {
            let _ = active.end(true);
            eprintln!("{why}");
            Ok(())
        }
        (_, Err(why)) => {
            let _ = active.end(false);
            Err(nextevent::data::Error::Settings(format!(
                "the model did not pass the real Jan–Feb gate, so {} was left as it was: {why}",
                opts.out_dir.display()
            )))
        }
        (None, Ok(())) => unreachable!("a passed gate writes a report"),
    }
}

/// The tracking record of a `ship` run: the card's record plus the real figures.
fn ship_record(
    r: &nextevent::training::card::PipelineReport,
    opts: &ShipOptions,
    name: &str,
) -> nextevent::data::tracking::RunRecord {
    let popts = PipelineOptions {
        inputs: vec![],
        out_dir: opts.out_dir.clone(),
        stem: opts.stem.clone(),
        train: opts.recipe.finetune.clone(),
        verify_windows: opts.verify_windows,
        provenance: r.provenance.clone(),
    };
    let mut rec = run_record(r, &popts, name);
    if let Some(t) = r.real.as_ref().and_then(|x| x.test.as_ref()) {
        for row in &t.rows {
            let key = nextevent::data::tracking::metric_key(&row.name);
            for (m, iv) in &row.figures {
                rec.metric(format!("real_jan_feb_{key}_{m}"), iv.value, 0);
            }
        }
        rec.metric("real_jan_feb_paired_macro_f1", t.paired_f1.value, 0);
        rec.metric("real_jan_feb_paired_log_loss", t.paired_log_loss.value, 0);
    }
    rec
}

/// `compare --real`: the architectures by the shipped recipe, with a lighter pre-training
/// budget (3 epochs of 100,000 generated windows), scored on real Jan–Feb.
fn compare_on_real(
    archs: &[Arch],
    seeds: &[u64],
    rows: u64,
    data_dir: &std::path::Path,
    shared: &Shared,
    args: &TrainArgs,
) -> Result<()> {
    let model = train_config(args)?.model;
    let mut recipe = nextevent::training::ship::default_recipe(model, args.seed);
    if let Some(p) = recipe.pretrain.as_mut() {
        p.epochs = 3;
        p.windows_per_epoch = Some(100_000);
        p.valid_windows = Some(20_000);
    }
    let opts = nextevent::training::compare_real::RealCompareOptions {
        sample: shared.sample.clone(),
        products: shared.products.clone(),
        data_dir: data_dir.to_path_buf(),
        rows,
        archs: archs.to_vec(),
        seeds: seeds.to_vec(),
        recipe,
        out_dir: args.out_dir.clone(),
        command: std::env::args().collect::<Vec<_>>().join(" "),
        progress: !args.quiet,
    };
    let r = nextevent::training::compare_real::compare_real(&opts)?;
    eprintln!(
        "{}\nwrote {}/COMPARISON-REAL.md and comparison-real.json",
        nextevent::training::compare_real::markdown(&r),
        opts.out_dir.display()
    );
    Ok(())
}

/// The default budget of every model in a comparison: up to 4 epochs of 150,000 windows,
/// 20,000 validation windows per epoch.
fn comparison_budget(args: &mut TrainArgs) {
    args.windows_per_epoch = args.windows_per_epoch.or(Some(150_000));
    args.valid_windows = args.valid_windows.or(Some(20_000));
    args.epochs = args.epochs.or(Some(4));
}

/// Runs a comparison tracked under `experiment` and says where everything went.
fn run_comparison(
    opts: &CompareOptions,
    experiment: &str,
    runs_dir: &std::path::Path,
) -> Result<()> {
    let tracker = Tracker::from_env(experiment, runs_dir)?;
    let r = compare(opts, &tracker)?;
    eprintln!(
        "{}\nwrote {}/{}.md, {}.json, {}.svg; tracked in {} (parent run {})",
        r.answer,
        opts.out_dir.display(),
        opts.name.to_uppercase(),
        opts.name,
        opts.name,
        tracker.describe(),
        r.parent_run.as_deref().unwrap_or("–")
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
            calendar,
            example_calendar,
            brand_appeal,
            process,
            no_bayes,
            shared,
        } => (|| {
            let calendar = match calendar {
                Some(p) => Some(files::read_calendar(&p)?),
                None => example_calendar.then(Calendar::kaggle_period_example),
            };
            gen(
                rows,
                seed,
                &out,
                &shared,
                Effects {
                    calendar,
                    brand_appeal,
                },
                &process,
                !no_bayes,
            )
        })(),
        Cmd::Ingest { files } => {
            nextevent::data::ingest::ingest(&files, true).map(|ds| println!("{}", ds.report))
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
        Cmd::Compare {
            files,
            rows,
            data_seed,
            data_dir,
            archs,
            seeds,
            name,
            timing_windows,
            real,
            shared,
            mut args,
        } => (|| {
            if real {
                return compare_on_real(&archs, &seeds, rows, &data_dir, &shared, &args);
            }
            comparison_budget(&mut args);
            let (inputs, provenance) = if files.is_empty() {
                files::create_dir(&data_dir)?;
                let out = data_dir.join(format!("generated-{rows}-seed{data_seed}.csv.gz"));
                if !out.exists() || !sidecar(&out).exists() {
                    gen(
                        rows,
                        data_seed,
                        &out,
                        &shared,
                        Effects::default(),
                        std::path::Path::new(GENERATOR),
                        true,
                    )?;
                }
                (vec![out], format!("SYNTHETIC data: {rows} Kaggle-schema rows from nextevent's generator (seed {data_seed}), real product ids, brands and prices; not the real dataset"))
            } else {
                let p = format!(
                    "{} (Kaggle schema)",
                    files
                        .iter()
                        .map(|f| f.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                (files, p)
            };
            let opts = CompareOptions {
                inputs,
                out_dir: args.out_dir.clone(),
                name,
                title: "Model comparison: CNN+BiGRU vs LSTM, GRU, BiGRU, CNN and baselines".into(),
                variants: Variant::archs(&archs),
                seeds,
                train: train_config(&args)?,
                provenance: args.provenance.clone().unwrap_or(provenance),
                timing_windows,
                command: std::env::args().collect::<Vec<_>>().join(" "),
            };
            run_comparison(&opts, "nextevent-comparison", &args.runs_dir)
        })(),
        Cmd::Experiments {
            rows,
            data_seed,
            data_dir,
            seeds,
            name,
            timing_windows,
            shared,
            mut args,
        } => (|| {
            comparison_budget(&mut args);
            // `--calendar` (default: the example Kaggle-period calendar) is both the
            // generator's and the context features'.
            let calendar = args.calendar.clone();
            let cal = match &calendar {
                Some(p) => files::read_calendar(p)?,
                None => Calendar::kaggle_period_example(),
            };
            files::create_dir(&data_dir)?;
            let tag = if calendar.is_some() {
                "custom"
            } else {
                "example"
            };
            let out = data_dir.join(format!("effects-{tag}-{rows}-seed{data_seed}.csv.gz"));
            let effects = Effects {
                calendar: Some(cal.clone()),
                brand_appeal: true,
            };
            if !out.exists() || !sidecar(&out).exists() {
                gen(
                    rows,
                    data_seed,
                    &out,
                    &shared,
                    effects,
                    std::path::Path::new(GENERATOR),
                    true,
                )?;
            }
            let mut train = train_config(&args)?;
            train.calendar = Some(cal);
            let a = args.arch;
            let opts = CompareOptions {
                inputs: vec![out],
                out_dir: args.out_dir.clone(),
                name,
                title: format!("Experiments: external context and a session-level brand embedding ({})", a.label()),
                variants: vec![
                    Variant::new(a, false, false),
                    Variant::new(a, true, false),
                    Variant::new(a, false, true),
                ],
                seeds,
                train,
                provenance: args.provenance.clone().unwrap_or(format!(
                    "SYNTHETIC data: {rows} Kaggle-schema rows from nextevent's generator (seed {data_seed}) WITH a promotion/holiday calendar and per-brand appeal in its process"
                )),
                timing_windows,
                command: std::env::args().collect::<Vec<_>>().join(" "),
            };
            run_comparison(&opts, "nextevent-experiments", &args.runs_dir)
        })(),
        Cmd::Render { json } => {
            nextevent::training::compare::rerender(&json).map(|r| eprintln!("{}", r.answer))
        }
        Cmd::Ship {
            rows,
            data_dir,
            max_states,
            dev,
            no_pretrain,
            finetune_lr,
            finetune_epochs,
            finetune_class_weights,
            shared,
            args,
        } => (|| {
            let model = train_config(&args)?.model;
            let mut recipe = nextevent::training::ship::default_recipe(model, args.seed);
            if no_pretrain {
                recipe.pretrain = None;
            }
            if let Some(lr) = finetune_lr {
                recipe.finetune.learning_rate = lr;
            }
            if let Some(e) = finetune_epochs {
                recipe.finetune.epochs = e;
            }
            recipe.finetune.class_weights = finetune_class_weights;
            for c in recipe.pretrain.iter_mut().chain([&mut recipe.finetune]) {
                c.progress = !args.quiet;
            }
            let opts = ShipOptions {
                sample: shared.sample.clone(),
                products: shared.products.clone(),
                rows,
                data_dir,
                out_dir: args.out_dir.clone(),
                stem: args.stem.clone(),
                recipe,
                max_states,
                seed: args.seed,
                dev_only: dev,
                verify_windows: 2048,
                progress: !args.quiet,
            };
            ship_and_report(&opts, &args)
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
