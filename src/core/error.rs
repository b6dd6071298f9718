//! The core's error enum: only what a browser (or any caller of the predictor) can meet.
//! Files, tracking, settings and I/O are the data side's ([`crate::data::Error`]).

/// Everything that can go wrong in the core, with enough context to find the culprit.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// A CSV row (1-based data row number, header excluded) had a bad or missing field:
    /// pasted rows in the demo, rows of a Kaggle file.
    #[error("row {row}: field `{field}`: {reason}")]
    Row {
        row: u64,
        field: &'static str,
        reason: String,
    },

    /// An event of a sequence (0-based index) had a bad or missing field, or was earlier
    /// than the event before it.
    #[error("event {index}: field `{field}`: {reason}")]
    Event {
        index: usize,
        field: &'static str,
        reason: String,
    },

    /// A JSON/JS payload could not be read as events at all (not JSON, not an array, an
    /// empty sequence inside a batch).
    #[error("invalid events: {0}")]
    Payload(String),

    /// Prediction was asked for with no events.
    #[error("empty sequence: at least one event is needed to predict")]
    EmptySequence,

    /// More events than one call accepts ([`crate::core::predict::MAX_EVENTS`]).
    #[error("sequence of {len} events exceeds the limit of {max} events per call")]
    TooManyEvents { len: usize, max: usize },

    /// A churn threshold outside 0..=1 or not a number.
    #[error("threshold must be a number from 0 to 1, got {value}")]
    Threshold { value: f64 },

    /// A promotion/holiday calendar entry could not be read (`at` names the line or entry).
    #[error("calendar {at}: {reason}")]
    Calendar { at: String, reason: String },

    /// A batch of encoded inputs does not have the shape the model expects.
    #[error("encoded batch shape: {0}")]
    Shape(String),

    /// An encoded input value the model must not see: a non-finite feature, a brand bucket
    /// outside the embedding (`tensor[index]` is the flat position).
    #[error("{tensor}[{index}] is {detail}")]
    Encoded {
        tensor: &'static str,
        index: usize,
        detail: String,
    },

    /// The model's feature spec is not the one this build encodes.
    #[error("model feature spec does not match this build: {0}")]
    SpecMismatch(String),

    /// The model's ONNX graph is not one nextevent's exporter writes (checked before tract
    /// sees it): `at` names the node, initializer, input or output, `reason` what is wrong.
    #[error("model graph: {at}: {reason}")]
    Graph { at: String, reason: String },

    /// The model file is unreadable, lacks metadata, or tract cannot run it (tract's
    /// message with its whole chain of causes).
    #[error("model: {0}")]
    Model(String),

    /// tract panicked on a model that passed every check (natively the panic is caught, so
    /// a batch job refuses the file instead of crashing); `stage` says where.
    #[error("model: tract failed while {stage}: {message}")]
    Panic {
        stage: &'static str,
        message: String,
    },

    /// Class index outside the four event kinds.
    #[error("unknown class index {0}")]
    Class(usize),
}

/// `Result` with the core's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn event(index: usize, field: &'static str, reason: impl Into<String>) -> Self {
        Error::Event {
            index,
            field,
            reason: reason.into(),
        }
    }
    /// A tract error, with its causes (`{:#}` prints anyhow's whole chain).
    pub(crate) fn model(e: impl std::fmt::Display) -> Self {
        Error::Model(format!("{e:#}"))
    }
    pub(crate) fn calendar(at: impl Into<String>, reason: impl std::fmt::Display) -> Self {
        Error::Calendar {
            at: at.into(),
            reason: reason.to_string(),
        }
    }
}
