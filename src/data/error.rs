//! The data and training side's error enum: files, outputs, tracking and settings, wrapping
//! the core's errors and keeping every source.

use std::path::PathBuf;

/// Everything that can go wrong reading data, training, evaluating or tracking.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An error of the core: a bad event, a refused model, a calendar line…
    #[error(transparent)]
    Core(#[from] crate::core::Error),

    /// A file could not be opened or read: missing, unreadable, a truncated gzip stream.
    #[error("{}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A file was read but cannot be used as input: empty, a header without the required
    /// columns, a calendar with a bad line, a product table without products.
    #[error("{}: {reason}", path.display())]
    Input { path: PathBuf, reason: String },

    /// An input file's core-level error (a calendar entry, a model file), with its path.
    #[error("{}: {source}", path.display())]
    InFile {
        path: PathBuf,
        #[source]
        source: crate::core::Error,
    },

    /// An output file or folder could not be written.
    #[error("{}: cannot write: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A CSV output could not be written (the csv crate's error, with the file).
    #[error("{}: cannot write CSV: {source}", path.display())]
    CsvWrite {
        path: PathBuf,
        #[source]
        source: csv::Error,
    },

    /// A plot could not be drawn (plotters reports its backend errors as text).
    #[error("{}: plot: {reason}", path.display())]
    Plot { path: PathBuf, reason: String },

    /// The experiment tracker refused something: an HTTP error status from MLflow, a reply
    /// without the expected fields, a run folder in a bad state.
    #[error("tracking: {0}")]
    Tracking(String),

    /// The MLflow server could not be reached or its reply not read.
    #[error("tracking: {what}: {source}")]
    TrackingTransport {
        what: String,
        #[source]
        source: ureq::Error,
    },

    /// Settings that cannot work together (e.g. context features without a calendar).
    #[error("settings: {0}")]
    Settings(String),

    /// The data is too small for the job (e.g. no session with two events in a set).
    #[error("not enough data: {0}")]
    NotEnoughData(String),
}

/// `Result` with the data side's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn read(path: &std::path::Path, source: std::io::Error) -> Self {
        Error::Read {
            path: path.to_path_buf(),
            source,
        }
    }
    pub(crate) fn write(path: &std::path::Path, source: std::io::Error) -> Self {
        Error::Write {
            path: path.to_path_buf(),
            source,
        }
    }
    /// Whether this is a write to a reader that went away (`nextevent score … | head`):
    /// binaries then stop quietly with success, as `grep` and `ripgrep` do.
    pub fn is_broken_pipe(&self) -> bool {
        let io = match self {
            Error::Write { source, .. } => Some(source),
            Error::CsvWrite { source, .. } => match source.kind() {
                csv::ErrorKind::Io(e) => Some(e),
                _ => None,
            },
            _ => None,
        };
        io.is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    }
    pub(crate) fn input(path: &std::path::Path, reason: impl Into<String>) -> Self {
        Error::Input {
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }
}
