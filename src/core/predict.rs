//! The predictor: loads an ONNX model once (spec check, parse, optimize), then predicts
//! next-event probabilities for event sequences. Native and wasm32 alike; no web-sys here.

use std::sync::Arc;

use tract_onnx::prelude::*;

use crate::core::context::{CalendarIndex, N_CONTEXT};
use crate::core::encode::Batch;
use crate::core::error::{Error, Result};
use crate::core::event::{validate_sequence, Event, EventKind};
use crate::core::spec::{
    FeatureSpec, ModelInfo, BRAND_BUCKETS, INFO_KEY, N_FEATURES, SPEC_KEY, WINDOW,
};

/// Most events accepted in one call (only the last `WINDOW` are encoded, but all are validated).
pub const MAX_EVENTS: usize = 1000;

/// Largest model file accepted (the shipped one is ~23 KB; a model this size would not be a
/// nextevent model, and reading it would stall a page).
pub const MAX_MODEL_BYTES: usize = 64_000_000;

/// The shipped int8 model, embedded at build time.
pub static EMBEDDED_MODEL: &[u8] = include_bytes!("../../models/nextevent.onnx");

/// Probabilities of the next event's kind.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Prediction {
    /// In class order: view, cart, remove_from_cart, purchase; they sum to 1.
    pub probabilities: [f32; 4],
    /// The most likely next kind.
    pub next: EventKind,
    /// Its probability.
    pub confidence: f32,
    /// P(a purchase follows later in this session), from a model with a conversion head.
    pub conversion: Option<f32>,
}

impl Prediction {
    pub fn from_probabilities(p: [f32; 4]) -> Self {
        let (i, &c) = p
            .iter()
            .enumerate()
            .fold((0, &p[0]), |a, b| if b.1 > a.1 { b } else { a });
        Prediction {
            probabilities: p,
            next: EventKind::ALL[i],
            confidence: c,
            conversion: None,
        }
    }
    /// Probability of one kind.
    pub fn p(&self, k: EventKind) -> f32 {
        self.probabilities[k.index()]
    }
}

/// A loaded, optimized model ready to run many times.
///
/// Two plans: one optimized for a batch of exactly one window (the common case: a live
/// session, the demo) — with the batch size known, tract packs the GRU's recurrent weights
/// once at load instead of on every call, which halves batch-1 latency — and one for any
/// batch size, optimized on the first call with more than one window.
#[derive(Clone)]
pub struct Predictor {
    single: Arc<TypedRunnableModel>,
    /// The decluttered model with a symbolic batch size, and its plan once built.
    typed: Arc<TypedModel>,
    batch: Arc<std::sync::OnceLock<std::result::Result<Arc<TypedRunnableModel>, String>>>,
    spec: FeatureSpec,
    info: ModelInfo,
    size_bytes: usize,
    /// The calendar of a model trained with context features.
    calendar: Option<CalendarIndex>,
    /// Whether the model has the conversion head.
    conversion: bool,
}

impl std::fmt::Debug for Predictor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Predictor")
            .field("info", &self.info.name)
            .field("size_bytes", &self.size_bytes)
            .finish()
    }
}

/// What [`Predictor::read`] learnt of a model file besides its graph.
struct Meta {
    spec: FeatureSpec,
    info: ModelInfo,
    size_bytes: usize,
    conversion: bool,
}

/// A model file decoded and checked ([`Predictor::read`]); [`ReadModel::declutter`] goes on.
pub struct ReadModel {
    onnx: tract_onnx::Onnx,
    proto: tract_onnx::pb::ModelProto,
    meta: Meta,
}

/// tract's typed, decluttered model with a symbolic batch `N` ([`ReadModel::declutter`]);
/// [`DeclutteredModel::optimize`] makes the predictor.
pub struct DeclutteredModel {
    typed: TypedModel,
    /// The batch-size symbol, which the last step sets to 1.
    n: Symbol,
    meta: Meta,
}

impl ReadModel {
    /// The spec the file carries (already checked against this build's).
    pub fn spec(&self) -> &FeatureSpec {
        &self.meta.spec
    }

    /// The second step: builds tract's model from the protobuf with a symbolic batch size,
    /// types and declutters it.
    pub fn declutter(self) -> Result<DeclutteredModel> {
        let ReadModel { onnx, proto, meta } = self;
        let (typed, n) = guarded("loading the model", || {
            let model = onnx.model_for_proto_model(&proto).map_err(Error::model)?;
            let n = model.symbols.sym("N");
            let typed = model
                .with_input_fact(
                    0,
                    f32::fact(tract_onnx::tract_core::dims!(n.clone(), WINDOW, N_FEATURES)).into(),
                )
                .and_then(|m| {
                    m.with_input_fact(
                        1,
                        i64::fact(tract_onnx::tract_core::dims!(n.clone(), WINDOW)).into(),
                    )
                })
                .and_then(|m| {
                    if meta.spec.context.is_some() {
                        m.with_input_fact(
                            2,
                            f32::fact(tract_onnx::tract_core::dims!(n.clone(), WINDOW, N_CONTEXT))
                                .into(),
                        )
                    } else {
                        Ok(m)
                    }
                })
                .and_then(|m| m.into_typed())
                .and_then(|m| m.into_decluttered())
                .map_err(Error::model)?;
            Ok((typed, n))
        })?;
        Ok(DeclutteredModel { typed, n, meta })
    }
}

impl DeclutteredModel {
    /// The last step: the plan optimized for a batch of one, and the predictor. The any-batch
    /// plan is optimized later, on first use (or [`Predictor::prepare_batch`]).
    pub fn optimize(self) -> Result<Predictor> {
        let DeclutteredModel { typed, n, meta } = self;
        let single = guarded("loading the model", || {
            let one = std::collections::HashMap::from([(n, TDim::from(1))]);
            typed
                .set_symbols(&one)
                .and_then(|m| m.into_optimized())
                .and_then(|m| m.into_runnable())
                .map_err(Error::model)
        })?;
        Ok(Predictor {
            single,
            typed: Arc::new(typed),
            batch: Arc::default(),
            conversion: meta.conversion,
            calendar: meta.spec.context.as_ref().map(|c| c.calendar.index()),
            spec: meta.spec,
            info: meta.info,
            size_bytes: meta.size_bytes,
        })
    }
}

/// Reads the spec and info from an ONNX file's metadata without building the graph.
pub fn read_metadata(proto: &tract_onnx::pb::ModelProto) -> Result<(FeatureSpec, ModelInfo)> {
    let get = |k: &str| {
        proto
            .metadata_props
            .iter()
            .find(|p| p.key == k)
            .map(|p| p.value.as_str())
    };
    let spec_json = get(SPEC_KEY).ok_or_else(|| {
        Error::SpecMismatch(format!(
            "the model has no `{SPEC_KEY}` metadata; it was not exported by nextevent"
        ))
    })?;
    let spec: FeatureSpec = serde_json::from_str(spec_json).map_err(|e| {
        Error::SpecMismatch(format!("`{SPEC_KEY}` metadata is not a feature spec: {e}"))
    })?;
    let info = match get(INFO_KEY) {
        Some(j) => serde_json::from_str(j)
            .map_err(|e| Error::Model(format!("`{INFO_KEY}` metadata unreadable: {e}")))?,
        None => ModelInfo::default(),
    };
    Ok((spec, info))
}

impl Predictor {
    /// The model shipped in `models/nextevent.onnx`.
    pub fn embedded() -> Result<Self> {
        Self::from_onnx_bytes(EMBEDDED_MODEL)
    }

    /// Loads an ONNX model: decodes it, refuses it unless its spec equals this build's and its
    /// graph is one the exporter writes ([`crate::core::graph_check`]), then parses and
    /// optimizes it once for a symbolic batch size. The same three steps as
    /// [`Predictor::read`] → [`ReadModel::declutter`] → [`DeclutteredModel::optimize`].
    pub fn from_onnx_bytes(bytes: &[u8]) -> Result<Self> {
        Self::read(bytes)?.declutter()?.optimize()
    }

    /// The first step of [`Predictor::from_onnx_bytes`]: decodes the file and checks its size,
    /// spec and graph (the refusals with a reason happen here), without building tract's model.
    ///
    /// Why steps: a page that loads a model on its own thread runs each step in a task of its
    /// own, so no single task blocks input for the whole load (Total Blocking Time and INP
    /// count each task's time past 50 ms).
    pub fn read(bytes: &[u8]) -> Result<ReadModel> {
        if bytes.is_empty() {
            return Err(Error::Model("model file is empty".into()));
        }
        if bytes.len() > MAX_MODEL_BYTES {
            return Err(Error::Model(format!(
                "model file is {} bytes; the limit is {MAX_MODEL_BYTES}",
                bytes.len()
            )));
        }
        let onnx = tract_onnx::onnx();
        let proto = onnx.proto_model_for_read(&mut &bytes[..]).map_err(|e| {
            Error::Model(format!(
                "not a readable ONNX protobuf ({} bytes): {e:#}",
                bytes.len()
            ))
        })?;
        let (spec, info) = read_metadata(&proto)?;
        let diff = FeatureSpec::expected_for(&spec).differences(&spec);
        if !diff.is_empty() {
            return Err(Error::SpecMismatch(diff.join("; ")));
        }
        if !cfg!(feature = "__fuzz_unchecked_graph") {
            crate::core::graph_check::check(&proto, &spec)?;
        }
        let conversion = proto
            .graph
            .as_ref()
            .is_some_and(|g| g.output.iter().any(|o| o.name == "conversion"));
        Ok(ReadModel {
            onnx,
            proto,
            meta: Meta {
                spec,
                info,
                size_bytes: bytes.len(),
                conversion,
            },
        })
    }

    pub fn spec(&self) -> &FeatureSpec {
        &self.spec
    }
    pub fn info(&self) -> &ModelInfo {
        &self.info
    }
    /// The calendar whose context features this model reads, if it was trained with one;
    /// pass it to [`Batch::push_with`] when encoding for [`Predictor::run`].
    pub fn calendar(&self) -> Option<&CalendarIndex> {
        self.calendar.as_ref()
    }

    /// Encodes sequences as this model expects them (with context when it reads a calendar).
    pub fn encode(&self, sequences: &[&[Event]]) -> Batch {
        let mut b = Batch::with_capacity(sequences.len());
        for s in sequences {
            b.push_with(s, self.calendar());
        }
        b
    }

    /// Size of the ONNX file this predictor was loaded from.
    pub fn size_bytes(&self) -> usize {
        self.size_bytes
    }

    /// Predicts the next event after `events` (oldest first).
    ///
    /// One window runs on the plan optimized for a batch of one (the browser's fast path);
    /// the batch entry points below always use the any-batch plan, whose result for a window
    /// does not depend on the batch it is in. The two plans agree to about 1e-7.
    pub fn predict(&self, events: &[Event]) -> Result<Prediction> {
        check_sequence(events)?;
        let (p, conv) = self.heads(&self.encode(&[events]), true)?;
        Ok(predictions(&p, conv.as_deref()).remove(0))
    }

    /// Predicts for many sequences at once; the error names the failing sequence.
    pub fn predict_batch(&self, sequences: &[&[Event]]) -> Result<Vec<Prediction>> {
        if sequences.is_empty() {
            return Ok(Vec::new());
        }
        let mut batch = Batch::with_capacity(sequences.len());
        for (s, events) in sequences.iter().enumerate() {
            check_sequence(events).map_err(|e| match e {
                Error::Event {
                    index,
                    field,
                    reason,
                } => Error::Event {
                    index,
                    field,
                    reason: format!("{reason} (sequence {s})"),
                },
                Error::EmptySequence => Error::Payload(format!("sequence {s} is empty")),
                other => other,
            })?;
            batch.push_with(events, self.calendar());
        }
        self.run(&batch)
    }

    /// Runs the model on an already encoded batch.
    pub fn run(&self, batch: &Batch) -> Result<Vec<Prediction>> {
        let (p, conv) = self.run_heads(batch)?;
        Ok(predictions(&p, conv.as_deref()))
    }

    /// Whether the model has the conversion head (a second output, `conversion` `[N, 1]`);
    /// detected from the graph's outputs, one-output models simply have none.
    pub fn has_conversion(&self) -> bool {
        self.conversion
    }

    /// Runs the model and returns the flat `[n, 4]` probabilities. The batch is checked, not
    /// trusted (it may come from JS or another encoder): its lengths, that every feature and
    /// context value is finite, and that every brand bucket is inside the embedding.
    pub fn run_raw(&self, batch: &Batch) -> Result<Vec<f32>> {
        Ok(self.run_heads(batch)?.0)
    }

    /// [`Predictor::run_raw`], plus the `[n]` conversion probabilities of a model with the
    /// conversion head. Always the any-batch plan: a window's result is the same whatever
    /// else is in the batch (the batch scorer, Python and Spark split work differently and
    /// must still agree bit for bit).
    pub fn run_heads(&self, batch: &Batch) -> Result<(Vec<f32>, Option<Vec<f32>>)> {
        let well_formed = batch.features.len() == WINDOW * N_FEATURES
            && batch.brands.len() == WINDOW
            && (batch.context.is_empty() || batch.context.len() == WINDOW * N_CONTEXT);
        if batch.n != 1 || !well_formed {
            return self.heads(batch, false);
        }
        // tract runs a one-row batch through other kernels (matrix-vector) than any larger
        // one, which moves results by ~1e-7: run the window twice and keep the first.
        let twice = Batch {
            n: 2,
            features: batch.features.repeat(2),
            brands: batch.brands.repeat(2),
            context: batch.context.repeat(2),
        };
        let (p, conv) = self.heads(&twice, false)?;
        Ok((p[..4].to_vec(), conv.map(|c| c[..1].to_vec())))
    }

    /// Runs `batch` on the batch-of-one plan when `single` and the batch has one window,
    /// else on the any-batch plan.
    fn heads(&self, batch: &Batch, single: bool) -> Result<(Vec<f32>, Option<Vec<f32>>)> {
        let n = batch.n;
        if n == 0 {
            return Ok((Vec::new(), self.conversion.then(Vec::new)));
        }
        if batch.features.len() != n * WINDOW * N_FEATURES || batch.brands.len() != n * WINDOW {
            return Err(Error::Shape(format!(
                "{} windows need {} features and {} brand buckets, got {} and {}",
                n,
                n * WINDOW * N_FEATURES,
                n * WINDOW,
                batch.features.len(),
                batch.brands.len()
            )));
        }
        check_values(batch)?;
        let f =
            Tensor::from_shape(&[n, WINDOW, N_FEATURES], &batch.features).map_err(Error::model)?;
        let b = Tensor::from_shape(&[n, WINDOW], &batch.brands).map_err(Error::model)?;
        let mut inputs: TVec<TValue> = tvec![f.into(), b.into()];
        match (&self.calendar, batch.context.len()) {
            (None, 0) => {}
            (Some(_), len) if len == n * WINDOW * N_CONTEXT => {
                let c = Tensor::from_shape(&[n, WINDOW, N_CONTEXT], &batch.context)
                    .map_err(Error::model)?;
                inputs.push(c.into());
            }
            (Some(_), len) => {
                return Err(Error::Shape(format!(
                    "this model reads calendar context: {n} windows need {} context values, got {len} (encode with Predictor::encode)",
                    n * WINDOW * N_CONTEXT
                )))
            }
            (None, len) => {
                return Err(Error::Shape(format!(
                    "this model reads no calendar context, but the batch carries {len} context values"
                )))
            }
        }
        let plan = if n == 1 && single {
            self.single.clone()
        } else {
            self.batch_plan()?
        };
        let out = guarded("running the model", || {
            plan.run(inputs).map_err(Error::model)
        })?;
        let read = |i: usize, width: usize| -> Result<Vec<f32>> {
            let view = out[i].to_plain_array_view::<f32>().map_err(Error::model)?;
            if view.shape() != [n, width] {
                return Err(Error::Model(format!(
                    "model output {i} has shape {:?}, expected [{n}, {width}]",
                    view.shape()
                )));
            }
            Ok(view.iter().copied().collect())
        };
        let probs = read(0, 4)?;
        let conv = if self.conversion {
            Some(read(1, 1)?)
        } else {
            None
        };
        Ok((probs, conv))
    }
}

/// Flat `[n, 4]` probabilities and optional `[n]` conversions as predictions.
fn predictions(p: &[f32], conv: Option<&[f32]>) -> Vec<Prediction> {
    p.chunks_exact(4)
        .enumerate()
        .map(|(i, c)| Prediction {
            conversion: conv.map(|v| v[i]),
            ..Prediction::from_probabilities([c[0], c[1], c[2], c[3]])
        })
        .collect()
}

impl Predictor {
    /// The any-batch plan [`Predictor::run_heads`] runs, for the per-operator profile
    /// (`benches/profile.rs`); tract's type, so not a stable API.
    #[doc(hidden)]
    pub fn batch_runnable(&self) -> Result<Arc<TypedRunnableModel>> {
        self.batch_plan()
    }

    /// Builds the any-batch plan now instead of on the first call with more than one window
    /// (the demo's first render runs one, for the influence strip), so a page can give the
    /// optimization a task of its own. Its error is the one that first call would return.
    pub fn prepare_batch(&self) -> Result<()> {
        self.batch_plan().map(drop)
    }

    /// The any-batch-size plan, optimized on first use and shared by clones.
    fn batch_plan(&self) -> Result<Arc<TypedRunnableModel>> {
        self.batch
            .get_or_init(|| {
                guarded("optimizing the model for a batch", || {
                    (*self.typed)
                        .clone()
                        .into_optimized()
                        .and_then(|m| m.into_runnable())
                        .map_err(Error::model)
                })
                .map_err(|e| e.to_string())
            })
            .clone()
            .map_err(Error::Model)
    }
}

/// Runs a tract call with a foreign model. Natively a panic inside tract becomes
/// [`Error::Panic`] (the graph check should make that unreachable; this is the backstop, so a
/// CLI, a batch job or the Python package refuse the file instead of crashing). On wasm32 the
/// build aborts on panic, so there the graph check is the defence (and the element's worker).
fn guarded<T>(stage: &'static str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => Err(Error::Panic {
            stage,
            message: payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "a panic without a message".into()),
        }),
    }
}

/// The encoded values a model must not see: non-finite floats (tract would carry NaN into
/// every probability) and brand buckets outside the embedding (an out-of-range `Gather`).
fn check_values(batch: &Batch) -> Result<()> {
    for (tensor, values) in [("features", &batch.features), ("context", &batch.context)] {
        if let Some(i) = values.iter().position(|x| !x.is_finite()) {
            return Err(Error::Encoded {
                tensor,
                index: i,
                detail: values[i].to_string(),
            });
        }
    }
    if let Some(i) = batch
        .brands
        .iter()
        .position(|&b| !(0..BRAND_BUCKETS as i64).contains(&b))
    {
        return Err(Error::Encoded {
            tensor: "brands",
            index: i,
            detail: format!(
                "{}, buckets are 0 to {}",
                batch.brands[i],
                BRAND_BUCKETS - 1
            ),
        });
    }
    Ok(())
}

fn check_sequence(events: &[Event]) -> Result<()> {
    if events.is_empty() {
        return Err(Error::EmptySequence);
    }
    if events.len() > MAX_EVENTS {
        return Err(Error::TooManyEvents {
            len: events.len(),
            max: MAX_EVENTS,
        });
    }
    validate_sequence(events)
}
