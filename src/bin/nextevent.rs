//! `nextevent`: the native data tools (feature `data`, no burn): score every session of an
//! event export into a churn list, evaluate an exported model on new data, report on an
//! export. One function per subcommand; the work is in the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use nextevent::core::predict::Predictor;
use nextevent::data::churn_list::{ChurnWriter, Format};
use nextevent::data::score::ScoreOptions;
use nextevent::data::Result;

#[derive(Parser)]
#[command(
    name = "nextevent",
    version,
    about = "nextevent's native data tools: read Kaggle-schema event exports (CSV or CSV.gz)"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Ingest Kaggle CSV files (plain or .gz) and print the report: rows read, accepted,
    /// duplicates, rejected by reason with examples, sessions and windows.
    Ingest { files: Vec<PathBuf> },
    /// Score every session of Kaggle-schema exports (CSV or CSV.gz, time-sorted, files in
    /// time order) into a churn list: one row per session (or per user's latest session)
    /// with the next-event probabilities, P(buys this visit), the stage, churn risk, the
    /// favourite brand and an intervention. Streams in bounded memory.
    Score(ScoreArgs),
    /// Evaluate an exported model on Kaggle-schema events: the card's metrics against the
    /// baselines (fitted on `--baselines-from`) with bootstrap intervals, reliability and
    /// confusion SVGs, and a per-week table (drift); Markdown + JSON, and an MLflow run when
    /// MLFLOW_TRACKING_URI is set.
    Evaluate {
        /// The model to evaluate (default: the embedded one).
        #[arg(long)]
        model: Option<PathBuf>,
        /// Events to evaluate on.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Training events the baselines are fitted on (default: the evaluated files, in-sample).
        #[arg(long, num_args = 1..)]
        baselines_from: Vec<PathBuf>,
        /// Folder for `<name>.md`, `<name>.json` and the SVGs.
        #[arg(long, default_value = "target/nextevent-evaluation")]
        out_dir: PathBuf,
        #[arg(long, default_value = "evaluation")]
        name: String,
        /// Local run folders when MLFLOW_TRACKING_URI is not set.
        #[arg(long, default_value = "target/nextevent-runs")]
        runs_dir: PathBuf,
    },
}

#[derive(clap::Args)]
struct ScoreArgs {
    /// Event exports, in time order.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Score sessions as they stood at this time (`2020-02-01 00:30:00 UTC` or RFC 3339);
    /// events after it are not seen. Default: the end of the data.
    #[arg(long, value_parser = parse_at)]
    at: Option<i64>,
    /// One row per user: their latest session.
    #[arg(long)]
    per_user: bool,
    /// Only sessions whose last event is within 30 minutes of `--at`.
    #[arg(long)]
    open_only: bool,
    /// Score with this exported model instead of the embedded one.
    #[arg(long)]
    model: Option<PathBuf>,
    /// Write here (default: stdout). A `.gz` name compresses the CSV.
    #[arg(long)]
    out: Option<PathBuf>,
    /// csv or parquet (parquet needs a build with `--features parquet`).
    #[arg(long, default_value = "csv", value_parser = parse_format)]
    format: Format,
    /// A session idle this long is closed and scored while the file streams (minutes, at
    /// least the 30-minute session gap).
    #[arg(long, default_value_t = 120)]
    horizon_minutes: i64,
    /// Prediction threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// One churn threshold for every stage (default: the model's per-stage thresholds).
    #[arg(long)]
    threshold: Option<f32>,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

fn parse_at(s: &str) -> std::result::Result<i64, String> {
    nextevent::core::event::parse_time(s)
}

fn parse_format(s: &str) -> std::result::Result<Format, String> {
    match s {
        "csv" => Ok(Format::Csv),
        "parquet" => Ok(Format::Parquet),
        other => Err(format!("unknown format {other:?}; expected csv or parquet")),
    }
}

/// The model to score with: `--model FILE.onnx` (checked like any model) or the embedded one.
fn load_model(path: Option<&std::path::Path>) -> Result<Predictor> {
    match path {
        Some(p) => {
            Predictor::from_onnx_bytes(&nextevent::data::files::read_bytes(p)?).map_err(|source| {
                nextevent::data::Error::InFile {
                    path: p.to_path_buf(),
                    source,
                }
            })
        }
        None => Ok(Predictor::embedded()?),
    }
}

fn score(a: &ScoreArgs) -> Result<()> {
    let model = load_model(a.model.as_deref())?;
    let threshold = a
        .threshold
        .map(|t| nextevent::core::outlook::check_threshold(t as f64))
        .transpose()?;
    let opts = ScoreOptions {
        files: a.files.clone(),
        at: a.at,
        per_user: a.per_user,
        open_only: a.open_only,
        horizon_ms: a.horizon_minutes * 60_000,
        threads: a
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
        threshold,
        progress: !a.quiet && std::io::IsTerminal::is_terminal(&std::io::stderr()),
        end: None,
        keep_rejects: false,
    };
    let mut out = ChurnWriter::create(a.out.as_deref(), a.format)?;
    let t = std::time::Instant::now();
    let summary = nextevent::data::score::score(&model, &opts, &mut |row| out.write(row))?;
    out.finish()?;
    eprintln!(
        "{summary}\nscored with {} in {:.1} s",
        model.info().name,
        t.elapsed().as_secs_f64()
    );
    Ok(())
}

fn ingest(files: &[PathBuf]) -> Result<()> {
    let ds = nextevent::data::ingest::ingest(files, true)?;
    println!("{}", ds.report);
    Ok(())
}

fn evaluate(
    model: Option<&std::path::Path>,
    files: &[PathBuf],
    baselines_from: &[PathBuf],
    out_dir: &std::path::Path,
    name: &str,
    runs_dir: &std::path::Path,
) -> Result<()> {
    let model = load_model(model)?;
    let e =
        nextevent::data::evaluate::evaluate(&model, files, baselines_from, out_dir, name, false)?;
    println!("{}", nextevent::data::evaluate::markdown(&e, name));
    let tracker = nextevent::data::tracking::Tracker::from_env("nextevent-evaluate", runs_dir)?;
    let logged = nextevent::data::evaluate::track(&e, &tracker)?;
    eprintln!(
        "wrote {}; tracked in {} (run {})",
        e.written.join(", "),
        tracker.describe(),
        logged.run_id
    );
    Ok(())
}

fn main() -> ExitCode {
    let result = match Cli::parse().cmd {
        Cmd::Ingest { files } => ingest(&files),
        Cmd::Score(a) => score(&a),
        Cmd::Evaluate {
            model,
            files,
            baselines_from,
            out_dir,
            name,
            runs_dir,
        } => evaluate(
            model.as_deref(),
            &files,
            &baselines_from,
            &out_dir,
            &name,
            &runs_dir,
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
