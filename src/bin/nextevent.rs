//! `nextevent`: the native data tools (feature `data`, no burn): read Kaggle-schema event
//! exports and report on them. One function per subcommand; the work is in the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
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
}

fn ingest(files: &[PathBuf]) -> Result<()> {
    let ds = nextevent::data::ingest::ingest(files, true)?;
    println!("{}", ds.report);
    Ok(())
}

fn main() -> ExitCode {
    let result = match Cli::parse().cmd {
        Cmd::Ingest { files } => ingest(&files),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
