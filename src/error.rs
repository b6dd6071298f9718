//! The crate's one error type and its `Result` alias; every failure names what and where.

/// Everything that can go wrong in nextevent, with enough context to find the culprit.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A CSV row (1-based data row number, header excluded) had a bad or missing field.
    #[error("row {row}: field `{field}`: {reason}")]
    Row {
        row: u64,
        field: &'static str,
        reason: String,
    },

    /// An event of a sequence (0-based index) had a bad or missing field.
    #[error("event {index}: field `{field}`: {reason}")]
    Event {
        index: usize,
        field: &'static str,
        reason: String,
    },

    /// A JSON/JS payload could not be read as events at all.
    #[error("invalid events: {0}")]
    Payload(String),

    /// Prediction needs at least one event.
    #[error("empty sequence: at least one event is needed to predict")]
    EmptySequence,

    /// More events than one call accepts.
    #[error("sequence of {len} events exceeds the limit of {max} events per call")]
    TooManyEvents { len: usize, max: usize },

    /// A batch of encoded inputs does not have the shape the model expects.
    #[error("encoded batch shape: {0}")]
    Shape(String),

    /// The model's feature spec is not the one this build encodes.
    #[error("model feature spec does not match this build: {0}")]
    SpecMismatch(String),

    /// The model file is unreadable, lacks metadata, or tract cannot run it.
    #[error("model: {0}")]
    Model(String),

    /// Class index outside the four event kinds.
    #[error("unknown class index {0}")]
    Class(usize),

    /// A CSV file could not be read at all (missing header, I/O, truncated gzip…).
    #[error("{path}: {reason}")]
    File { path: String, reason: String },

    /// The experiment tracker (MLflow server or local run folder) refused or failed.
    #[error("tracking: {0}")]
    Tracking(String),

    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn event(index: usize, field: &'static str, reason: impl Into<String>) -> Self {
        Error::Event {
            index,
            field,
            reason: reason.into(),
        }
    }
    pub(crate) fn model(e: impl std::fmt::Display) -> Self {
        Error::Model(format!("{e:#}"))
    }
}
