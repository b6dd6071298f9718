//! The Python package's native module `nextevent._native` (feature `python`, built by maturin
//! as an abi3 extension): the core predictor and the data side's streaming scorer, with the
//! GIL released while they run. The only place Python sees errors, as `NextEventError` (a
//! `ValueError`) with the same messages as the CLI and the JS API.

mod convert;

use std::path::PathBuf;

use pyo3::create_exception;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyList};
use serde::Serialize;

use crate::core::event::Event;
use crate::core::outlook::{check_threshold, Outlook};
use crate::core::predict::Predictor;
use crate::data::score::{score_text, ScoreOptions, Scored};
use convert::{dict, events_from_py, sequence_items, to_py, type_name};

create_exception!(
    nextevent,
    NextEventError,
    PyValueError,
    "Bad input or a bad model: the message names the event, row, column or graph node."
);

fn py_err(e: impl std::fmt::Display) -> PyErr {
    NextEventError::new_err(e.to_string())
}

fn threshold_arg(t: Option<f64>) -> PyResult<Option<f32>> {
    t.map(check_threshold).transpose().map_err(py_err)
}

/// Predicts a shopper's next event, P(buys this visit), the stage and churn risk.
#[pyclass(name = "Predictor", module = "nextevent._native", frozen)]
pub struct PyPredictor {
    inner: Predictor,
    threshold: Option<f32>,
}

#[pymethods]
impl PyPredictor {
    /// The embedded model (the one the browser runs).
    #[new]
    #[pyo3(signature = (*, threshold = None))]
    fn new(py: Python<'_>, threshold: Option<f64>) -> PyResult<Self> {
        let threshold = threshold_arg(threshold)?;
        let inner = py.detach(Predictor::embedded).map_err(py_err)?;
        Ok(PyPredictor { inner, threshold })
    }

    /// A model exported by `nextevent-train`: a path (str or os.PathLike) or the file's bytes.
    /// Checked like in the browser (spec, graph) before tract sees it.
    #[staticmethod]
    #[pyo3(signature = (model, *, threshold = None))]
    fn from_onnx(
        py: Python<'_>,
        model: &Bound<'_, PyAny>,
        threshold: Option<f64>,
    ) -> PyResult<Self> {
        let threshold = threshold_arg(threshold)?;
        let (bytes, path) = if let Ok(b) = model.cast::<PyBytes>() {
            (b.as_bytes().to_vec(), None)
        } else if let Ok(b) = model.cast::<PyByteArray>() {
            (b.to_vec(), None)
        } else if let Ok(p) = model.extract::<PathBuf>() {
            let bytes = crate::data::files::read_bytes(&p).map_err(py_err)?;
            (bytes, Some(p))
        } else {
            return Err(PyTypeError::new_err(format!(
                "model must be a path (str or os.PathLike) or bytes, got {}",
                type_name(model)
            )));
        };
        let inner = py
            .detach(|| Predictor::from_onnx_bytes(&bytes))
            .map_err(|e| match &path {
                Some(p) => py_err(format!("{}: {e}", p.display())),
                None => py_err(e),
            })?;
        Ok(PyPredictor { inner, threshold })
    }

    /// Predicts from one shopper's events (oldest first, at most 1,000; the last 16 count).
    /// Returns a dict shaped like the JS API's outlook.
    #[pyo3(signature = (events, *, influence = false))]
    fn predict<'py>(
        &self,
        py: Python<'py>,
        events: &Bound<'py, PyAny>,
        influence: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let events = events_from_py(events).map_err(py_err)?;
        let o = py
            .detach(|| Outlook::of(&self.inner, &events, None, self.threshold, influence))
            .map_err(py_err)?;
        to_py(py, &o)
    }

    /// Predicts for many shoppers at once (one batched run of the model); a list of outlooks.
    fn predict_batch<'py>(
        &self,
        py: Python<'py>,
        sequences: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let items = sequence_items(sequences).ok_or_else(|| {
            py_err(format!(
                "sequences must be a list of event lists, got {}",
                type_name(sequences)
            ))
        })?;
        let seqs: Vec<Vec<Event>> = items
            .iter()
            .enumerate()
            .map(|(i, s)| events_from_py(s).map_err(|e| py_err(format!("sequence {i}: {e}"))))
            .collect::<PyResult<_>>()?;
        let out = py
            .detach(|| {
                let refs: Vec<&[Event]> = seqs.iter().map(Vec::as_slice).collect();
                Outlook::batch(&self.inner, &refs, self.threshold)
            })
            .map_err(py_err)?;
        to_py(py, &out)
    }

    /// Scores Kaggle-schema CSV bytes (what `nextevent.Predictor.score` writes from a
    /// table) with the native `score` command's reader, rules and columns. Returns
    /// `(columns, summary, rejects)`: the churn list as a dict of column lists, the summary,
    /// and every rejected row as `(row, column, reason, detail)` (row 1-based, as in the CSV).
    #[pyo3(signature = (data, *, name = "table", at = None, end = None, per_user = false, open_only = false, horizon_minutes = 120, threads = None))]
    #[allow(clippy::too_many_arguments)] // Python keyword arguments, one per CLI option
    fn _score_csv<'py>(
        &self,
        py: Python<'py>,
        data: Vec<u8>,
        name: &str,
        at: Option<i64>,
        end: Option<i64>,
        per_user: bool,
        open_only: bool,
        horizon_minutes: i64,
        threads: Option<usize>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let opts = ScoreOptions {
            files: vec![],
            at,
            per_user,
            open_only,
            horizon_ms: horizon_minutes.saturating_mul(60_000),
            threads: threads
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
            threshold: self.threshold,
            progress: false,
            end,
            keep_rejects: true,
        };
        let name = PathBuf::from(name);
        let (columns, summary) = py
            .detach(|| {
                let mut columns = Columns::default();
                let summary = score_text(&self.inner, &opts, &name, data, &mut |r| {
                    columns.push(r);
                    Ok(())
                })?;
                Ok::<_, crate::data::Error>((columns, summary))
            })
            .map_err(py_err)?;
        let rejects = PyList::empty(py);
        for r in summary.tally.every_reject.iter().flatten() {
            rejects.append((r.row, r.field, r.reason, &r.detail))?;
        }
        let counts = dict(
            py,
            &[
                (
                    "rows_read",
                    summary.tally.rows_read.into_pyobject(py)?.into_any(),
                ),
                ("accepted", summary.accepted.into_pyobject(py)?.into_any()),
                (
                    "duplicates",
                    summary.duplicates.into_pyobject(py)?.into_any(),
                ),
                (
                    "rejected",
                    summary.tally.rejected.into_pyobject(py)?.into_any(),
                ),
                ("sessions", summary.sessions.into_pyobject(py)?.into_any()),
                ("reopened", summary.reopened.into_pyobject(py)?.into_any()),
                ("written", summary.written.into_pyobject(py)?.into_any()),
                ("at_risk", summary.at_risk.into_pyobject(py)?.into_any()),
                ("open", summary.open.into_pyobject(py)?.into_any()),
            ],
        )?;
        let t = pyo3::types::PyTuple::new(
            py,
            [to_py(py, &columns)?, counts.into_any(), rejects.into_any()],
        )?;
        Ok(t.into_any())
    }

    /// The threshold set for every stage, or None (the model's per-stage defaults).
    #[getter]
    fn threshold(&self) -> Option<f32> {
        self.threshold
    }

    /// Whether the model has the conversion head (P(buys this visit)).
    #[getter]
    fn has_conversion(&self) -> bool {
        self.inner.has_conversion()
    }

    /// What the model is: name, architecture, training data, held-out figures, heads, size.
    #[getter]
    fn info<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let mut v = serde_json::to_value(self.inner.info()).map_err(py_err)?;
        if let Some(o) = v.as_object_mut() {
            o.insert(
                "size_bytes".into(),
                serde_json::json!(self.inner.size_bytes()),
            );
        }
        to_py(py, &v)
    }

    fn __repr__(&self) -> String {
        format!("<nextevent.Predictor {}>", self.inner.info().name)
    }
}

/// The churn list by column (what `to_py` turns into a dict of lists).
#[derive(Default, Serialize)]
struct Columns {
    user_id: Vec<u64>,
    user_session: Vec<String>,
    events: Vec<u64>,
    last_event_time: Vec<String>,
    p_view: Vec<f32>,
    p_cart: Vec<f32>,
    p_remove_from_cart: Vec<f32>,
    p_purchase: Vec<f32>,
    next: Vec<&'static str>,
    confidence: Vec<f32>,
    conversion: Vec<Option<f32>>,
    stage: Vec<&'static str>,
    churn_risk: Vec<bool>,
    threshold: Vec<Option<f32>>,
    favourite_brand: Vec<String>,
    intervention: Vec<String>,
    open: Vec<bool>,
}

impl Columns {
    fn push(&mut self, r: &Scored) {
        self.user_id.push(r.user_id);
        self.user_session.push(r.user_session.clone());
        self.events.push(r.events);
        self.last_event_time.push(r.last_event_time.clone());
        self.p_view.push(r.p_view);
        self.p_cart.push(r.p_cart);
        self.p_remove_from_cart.push(r.p_remove_from_cart);
        self.p_purchase.push(r.p_purchase);
        self.next.push(r.next);
        self.confidence.push(r.confidence);
        self.conversion.push(r.conversion);
        self.stage.push(r.stage);
        self.churn_risk.push(r.churn_risk);
        self.threshold.push(r.threshold);
        self.favourite_brand.push(r.favourite_brand.clone());
        self.intervention.push(r.intervention.clone());
        self.open.push(r.open);
    }
}

/// The churn list's column names, in order (as the CLI writes them).
#[pyfunction]
fn churn_columns() -> Vec<&'static str> {
    crate::data::score::COLUMNS.to_vec()
}

/// The feature spec this build encodes (what a model's metadata must match).
#[pyfunction]
fn feature_spec(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    to_py(py, &crate::core::spec::FeatureSpec::current())
}

/// The embedded model's ONNX bytes (what `nextevent.mlflow.log_model()` logs by default).
#[pyfunction]
fn embedded_onnx(py: Python<'_>) -> Bound<'_, PyBytes> {
    PyBytes::new(py, crate::core::predict::EMBEDDED_MODEL)
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyPredictor>()?;
    m.add("NextEventError", m.py().get_type::<NextEventError>())?;
    m.add_function(wrap_pyfunction!(churn_columns, m)?)?;
    m.add_function(wrap_pyfunction!(feature_spec, m)?)?;
    m.add_function(wrap_pyfunction!(embedded_onnx, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
