//! The structural check of a model's ONNX graph, run after the spec check and before tract
//! sees the graph: only what nextevent's own exporter writes is accepted — its operators and
//! opset, each operator's inputs and attributes, initializer types and shapes consistent
//! with the spec and with each other, the graph's inputs and outputs, and a size limit on
//! every tensor. Shapes are inferred node by node with a symbolic batch `N`, so a graph that
//! would make tract panic (e.g. on an undetermined symbol) is refused with the node and the
//! reason instead.
//!
//! A GRU or LSTM without its optional `initial_h` (and LSTM `initial_c`) is standard ONNX for
//! "start from zeros", and it is refused, not normalised: the exporter always writes an
//! explicit zero state (a `Slice` → `Mul` by 0 → `Expand` chain that keeps the batch
//! symbolic), because tract 0.23 cannot size an implicit one for a symbolic batch and panics.
//! Rewriting graphs would put a second graph writer on the trust boundary for a family of
//! files nextevent never produces; the spec metadata already restricts loading to
//! nextevent's own exports, so refusing costs a user nothing real.

use std::collections::{HashMap, HashSet};

use tract_onnx::pb::{
    attribute_proto::AttributeType, tensor_proto::DataType,
    tensor_shape_proto::dimension::Value as DimValue, type_proto, AttributeProto, ModelProto,
    NodeProto, TensorProto, ValueInfoProto,
};

use crate::core::error::{Error, Result};
use crate::core::spec::{FeatureSpec, BRAND_BUCKETS, N_FEATURES, WINDOW};

/// ONNX IR version and opset the exporter writes.
pub const IR_VERSION: i64 = 7;
pub const OPSET: i64 = 13;
/// Largest tensor (elements) an initializer or an inferred value may have; the shipped
/// model's largest is 12,288.
pub const MAX_TENSOR_ELEMENTS: i64 = 1 << 20;
/// Largest single dimension of any tensor.
pub const MAX_DIM: i64 = 1 << 16;
/// Most nodes a graph may have (the largest export has 31).
pub const MAX_NODES: usize = 200;
/// Largest recurrent hidden size.
pub const MAX_HIDDEN: i64 = 1024;

/// Graph outputs and their widths: next-event probabilities, and the optional conversion head.
pub const OUTPUTS: [(&str, i64); 2] = [("probabilities", 4), ("conversion", 1)];

/// A dimension: the symbolic batch `N`, or a known size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dim {
    N,
    K(i64),
}

impl std::fmt::Display for Dim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Dim::N => f.write_str("N"),
            Dim::K(k) => write!(f, "{k}"),
        }
    }
}

fn show(shape: &[Dim]) -> String {
    format!(
        "[{}]",
        shape
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    F32,
    I64,
    I8,
}

impl Ty {
    fn name(self) -> &'static str {
        match self {
            Ty::F32 => "float32",
            Ty::I64 => "int64",
            Ty::I8 => "int8",
        }
    }
}

/// A value of the graph as the check knows it.
#[derive(Debug, Clone)]
struct Value {
    ty: Ty,
    shape: Vec<Dim>,
    /// An initializer, or computed from initializers only (a dequantized weight).
    constant: bool,
    /// The values of an int64 initializer (Slice bounds, shapes, axes).
    ints: Option<Vec<i64>>,
    /// The values of an int8 initializer (zero points).
    int8: Option<Vec<i8>>,
    /// The values of a float initializer (scales).
    floats: Option<Vec<f32>>,
    /// Whether this is the graph input `brand_bucket` (the only valid Gather indices).
    brand_input: bool,
}

impl Value {
    fn new(ty: Ty, shape: Vec<Dim>) -> Self {
        Value {
            ty,
            shape,
            constant: false,
            ints: None,
            int8: None,
            floats: None,
            brand_input: false,
        }
    }
}

fn graph_err(at: impl Into<String>, reason: impl Into<String>) -> Error {
    Error::Graph {
        at: at.into(),
        reason: reason.into(),
    }
}

/// Checks `model` against what the exporter writes for `spec`. On `Err` the model must not
/// reach tract.
pub fn check(model: &ModelProto, spec: &FeatureSpec) -> Result<()> {
    if model.ir_version != IR_VERSION {
        return Err(graph_err(
            "model",
            format!("IR version {}, expected {IR_VERSION}", model.ir_version),
        ));
    }
    match model.opset_import.as_slice() {
        [o] if (o.domain.is_empty() || o.domain == "ai.onnx") && o.version == OPSET => {}
        other => {
            return Err(graph_err(
                "model",
                format!(
                    "opsets {:?}, expected only the default domain at version {OPSET}",
                    other
                        .iter()
                        .map(|o| format!("{}:{}", o.domain, o.version))
                        .collect::<Vec<_>>()
                ),
            ))
        }
    }
    if !model.functions.is_empty() || !model.training_info.is_empty() {
        return Err(graph_err(
            "model",
            "has functions or training info, which the exporter never writes",
        ));
    }
    let graph = model
        .graph
        .as_ref()
        .ok_or_else(|| graph_err("model", "has no graph"))?;
    if !graph.sparse_initializer.is_empty() || !graph.value_info.is_empty() {
        return Err(graph_err(
            "graph",
            "has sparse initializers or value_info annotations, which the exporter never writes",
        ));
    }
    if graph.node.len() > MAX_NODES {
        return Err(graph_err(
            "graph",
            format!("{} nodes; the limit is {MAX_NODES}", graph.node.len()),
        ));
    }

    let mut values: HashMap<String, Value> = HashMap::new();
    for t in &graph.initializer {
        let v = initializer(t)?;
        if values.insert(t.name.clone(), v).is_some() {
            return Err(graph_err(
                format!("initializer `{}`", t.name),
                "is defined twice",
            ));
        }
    }
    check_inputs(&graph.input, spec, &mut values)?;
    for node in &graph.node {
        let at = format!(
            "node `{}` ({})",
            if node.name.is_empty() {
                node.output.first().map(String::as_str).unwrap_or("")
            } else {
                &node.name
            },
            node.op_type
        );
        let outs = infer(node, &values).map_err(|reason| graph_err(&at, reason))?;
        if outs.len() != node.output.len() {
            return Err(graph_err(
                &at,
                format!("has {} outputs, expected {}", node.output.len(), outs.len()),
            ));
        }
        for (name, v) in node.output.iter().zip(outs) {
            let Some(v) = v else {
                if !name.is_empty() {
                    return Err(graph_err(
                        &at,
                        format!("output `{name}` is not one the exporter uses; leave it empty"),
                    ));
                }
                continue;
            };
            if name.is_empty() {
                return Err(graph_err(&at, "an output it needs has no name"));
            }
            let elements = elements(&v.shape);
            if elements > MAX_TENSOR_ELEMENTS {
                return Err(graph_err(
                    &at,
                    format!(
                        "output `{name}` {} has {elements} elements per window; the limit is {MAX_TENSOR_ELEMENTS}",
                        show(&v.shape)
                    ),
                ));
            }
            if values.insert(name.clone(), v).is_some() {
                return Err(graph_err(
                    &at,
                    format!("output `{name}` redefines an existing value"),
                ));
            }
        }
    }
    check_outputs(&graph.output, &values)?;
    for (name, op) in [("probabilities", "Softmax"), ("conversion", "Sigmoid")] {
        let producer = graph
            .node
            .iter()
            .find(|n| n.output.iter().any(|o| o == name));
        if let Some(p) = producer {
            if p.op_type != op {
                return Err(graph_err(
                    format!("output `{name}`"),
                    format!("is computed by {}, expected {op}", p.op_type),
                ));
            }
        }
    }
    Ok(())
}

/// Elements of a shape per window (N counted as 1).
fn elements(shape: &[Dim]) -> i64 {
    shape
        .iter()
        .map(|d| match d {
            Dim::N => 1,
            Dim::K(k) => *k,
        })
        .fold(1i64, |a, b| a.saturating_mul(b))
}

fn initializer(t: &TensorProto) -> Result<Value> {
    let at = format!("initializer `{}`", t.name);
    if t.name.is_empty() {
        return Err(graph_err("initializer", "has no name"));
    }
    let ty = match DataType::try_from(t.data_type) {
        Ok(DataType::Float) => Ty::F32,
        Ok(DataType::Int64) => Ty::I64,
        Ok(DataType::Int8) => Ty::I8,
        _ => {
            return Err(graph_err(
                &at,
                format!(
                    "has data type {}, expected float32, int64 or int8",
                    t.data_type
                ),
            ))
        }
    };
    if t.dims.iter().any(|&d| !(1..=MAX_DIM).contains(&d)) {
        return Err(graph_err(
            &at,
            format!("has dimensions {:?}; each must be 1 to {MAX_DIM}", t.dims),
        ));
    }
    let n = t.dims.iter().fold(1i64, |a, &b| a.saturating_mul(b));
    if n > MAX_TENSOR_ELEMENTS {
        return Err(graph_err(
            &at,
            format!("has {n} elements; the limit is {MAX_TENSOR_ELEMENTS}"),
        ));
    }
    if !t.float_data.is_empty()
        || !t.int32_data.is_empty()
        || !t.int64_data.is_empty()
        || !t.string_data.is_empty()
        || !t.double_data.is_empty()
        || !t.uint64_data.is_empty()
        || !t.external_data.is_empty()
        || t.segment.is_some()
        || t.data_location.is_some_and(|l| l != 0)
    {
        return Err(graph_err(
            &at,
            "stores its values outside `raw_data` (the exporter writes raw little-endian data only)",
        ));
    }
    let size = match ty {
        Ty::F32 => 4,
        Ty::I64 => 8,
        Ty::I8 => 1,
    };
    if t.raw_data.len() as i64 != n * size {
        return Err(graph_err(
            &at,
            format!(
                "holds {} bytes; shape {:?} of {} needs {}",
                t.raw_data.len(),
                t.dims,
                ty.name(),
                n * size
            ),
        ));
    }
    let mut v = Value::new(ty, t.dims.iter().map(|&d| Dim::K(d)).collect());
    v.constant = true;
    match ty {
        Ty::F32 => {
            let f: Vec<f32> = t
                .raw_data
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            if let Some(i) = f.iter().position(|x| !x.is_finite()) {
                return Err(graph_err(&at, format!("value {i} is {}", f[i])));
            }
            v.floats = Some(f);
        }
        Ty::I64 => {
            v.ints = Some(
                t.raw_data
                    .chunks_exact(8)
                    .map(|c| i64::from_le_bytes(c.try_into().expect("8 bytes")))
                    .collect(),
            )
        }
        Ty::I8 => v.int8 = Some(t.raw_data.iter().map(|&b| b as i8).collect()),
    }
    Ok(v)
}

/// The type of a graph input or output: element type and shape, `N` for the dim_param.
fn io_type(vi: &ValueInfoProto) -> Option<(i32, Vec<Dim>)> {
    let Some(type_proto::Value::TensorType(t)) = vi.r#type.as_ref()?.value.as_ref() else {
        return None;
    };
    let dims = t
        .shape
        .as_ref()?
        .dim
        .iter()
        .map(|d| match &d.value {
            Some(DimValue::DimValue(k)) if *k > 0 => Some(Dim::K(*k)),
            Some(DimValue::DimParam(p)) if p == "N" => Some(Dim::N),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    Some((t.elem_type, dims))
}

fn check_inputs(
    inputs: &[ValueInfoProto],
    spec: &FeatureSpec,
    values: &mut HashMap<String, Value>,
) -> Result<()> {
    let mut want = vec![
        (
            "features",
            Ty::F32,
            DataType::Float,
            vec![Dim::N, Dim::K(WINDOW as i64), Dim::K(N_FEATURES as i64)],
        ),
        (
            "brand_bucket",
            Ty::I64,
            DataType::Int64,
            vec![Dim::N, Dim::K(WINDOW as i64)],
        ),
    ];
    if let Some(c) = &spec.context {
        want.push((
            "context",
            Ty::F32,
            DataType::Float,
            vec![
                Dim::N,
                Dim::K(WINDOW as i64),
                Dim::K(c.features.len() as i64),
            ],
        ));
    }
    let names: Vec<&str> = inputs.iter().map(|i| i.name.as_str()).collect();
    let expected: Vec<&str> = want.iter().map(|w| w.0).collect();
    if names != expected {
        return Err(graph_err(
            "graph inputs",
            format!("are {names:?}, expected {expected:?}"),
        ));
    }
    for (vi, (name, ty, dt, shape)) in inputs.iter().zip(want) {
        let at = format!("input `{name}`");
        match io_type(vi) {
            Some((e, s)) if e == dt as i32 && s == shape => {}
            Some((e, s)) => {
                return Err(graph_err(
                    &at,
                    format!(
                        "is element type {e} with shape {}, expected {} {}",
                        show(&s),
                        ty.name(),
                        show(&shape)
                    ),
                ))
            }
            None => {
                return Err(graph_err(
                    &at,
                    "has no tensor type with a shape of known sizes and batch `N`",
                ))
            }
        }
        if values.contains_key(name) {
            return Err(graph_err(&at, "is also an initializer"));
        }
        let mut v = Value::new(ty, shape);
        v.brand_input = name == "brand_bucket";
        values.insert(name.to_string(), v);
    }
    Ok(())
}

fn check_outputs(outputs: &[ValueInfoProto], values: &HashMap<String, Value>) -> Result<()> {
    let names: Vec<&str> = outputs.iter().map(|o| o.name.as_str()).collect();
    if names.is_empty() || names.len() > OUTPUTS.len() || names[0] != OUTPUTS[0].0 {
        return Err(graph_err(
            "graph outputs",
            format!(
                "are {names:?}, expected [\"probabilities\"] or [\"probabilities\", \"conversion\"]"
            ),
        ));
    }
    for (o, (name, width)) in outputs.iter().zip(OUTPUTS) {
        let at = format!("output `{}`", o.name);
        if o.name != name {
            return Err(graph_err(&at, format!("expected `{name}`")));
        }
        let want = vec![Dim::N, Dim::K(width)];
        match io_type(o) {
            Some((e, s)) if e == DataType::Float as i32 && s == want => {}
            _ => {
                return Err(graph_err(
                    &at,
                    format!("must be declared float32 {}", show(&want)),
                ))
            }
        }
        match values.get(name) {
            Some(v) if v.ty == Ty::F32 && v.shape == want => {}
            Some(v) => {
                return Err(graph_err(
                    &at,
                    format!(
                        "is computed as {} {}, expected float32 {}",
                        v.ty.name(),
                        show(&v.shape),
                        show(&want)
                    ),
                ))
            }
            None => return Err(graph_err(&at, "is not computed by any node")),
        }
    }
    Ok(())
}

fn attr<'a>(n: &'a NodeProto, name: &str) -> Option<&'a AttributeProto> {
    n.attribute.iter().find(|a| a.name == name)
}

fn int_attr(n: &NodeProto, name: &str) -> Option<i64> {
    attr(n, name)
        .filter(|a| a.r#type == AttributeType::Int as i32)
        .map(|a| a.i)
}

fn string_attr(n: &NodeProto, name: &str) -> Option<String> {
    attr(n, name)
        .filter(|a| a.r#type == AttributeType::String as i32)
        .map(|a| String::from_utf8_lossy(&a.s).into_owned())
}

type Inferred = std::result::Result<Vec<Option<Value>>, String>;

/// The attributes a node may carry, each with its type: anything else is refused.
fn attrs_only(n: &NodeProto, allowed: &[(&str, AttributeType)]) -> std::result::Result<(), String> {
    let mut seen = HashSet::new();
    for a in &n.attribute {
        if !seen.insert(a.name.as_str()) {
            return Err(format!("attribute `{}` is given twice", a.name));
        }
        match allowed.iter().find(|(name, _)| *name == a.name) {
            Some((_, ty)) if a.r#type == *ty as i32 && a.ref_attr_name.is_empty() => {}
            Some((_, ty)) => {
                return Err(format!(
                    "attribute `{}` has type {}, expected {ty:?}",
                    a.name, a.r#type
                ))
            }
            None => {
                return Err(format!(
                    "attribute `{}` is not one the exporter writes for {}",
                    a.name, n.op_type
                ))
            }
        }
    }
    Ok(())
}

fn need_int(n: &NodeProto, name: &str) -> std::result::Result<i64, String> {
    int_attr(n, name).ok_or_else(|| format!("attribute `{name}` is missing"))
}

fn need_ints<'a>(n: &'a NodeProto, name: &str) -> std::result::Result<&'a [i64], String> {
    attr(n, name)
        .map(|a| a.ints.as_slice())
        .ok_or_else(|| format!("attribute `{name}` is missing"))
}

/// The node's inputs, looked up, one slot per name (`names` says what each is); trailing
/// inputs may be left out, as ONNX allows for optional ones, and come back as `None`.
fn inputs<'a>(
    n: &NodeProto,
    values: &'a HashMap<String, Value>,
    names: &[&str],
) -> std::result::Result<Vec<Option<&'a Value>>, String> {
    if n.input.len() > names.len() {
        return Err(format!(
            "has {} inputs, expected at most {} ({})",
            n.input.len(),
            names.len(),
            names.join(", ")
        ));
    }
    let empty = String::new();
    names
        .iter()
        .enumerate()
        .map(|(i, what)| (n.input.get(i).unwrap_or(&empty), what))
        .map(|(x, what)| {
            if x.is_empty() {
                Ok(None)
            } else {
                values.get(x).map(Some).ok_or_else(|| {
                    format!("input `{what}` names `{x}`, which is not defined before this node")
                })
            }
        })
        .collect()
}

fn need<'a>(v: Option<&'a Value>, what: &str) -> std::result::Result<&'a Value, String> {
    v.ok_or_else(|| format!("input `{what}` is missing"))
}

fn expect(v: &Value, what: &str, ty: Ty, shape: &[Dim]) -> std::result::Result<(), String> {
    if v.ty != ty || v.shape != shape {
        Err(format!(
            "input `{what}` is {} {}, expected {} {}",
            v.ty.name(),
            show(&v.shape),
            ty.name(),
            show(shape)
        ))
    } else {
        Ok(())
    }
}

fn konst(v: &Value, what: &str) -> std::result::Result<(), String> {
    if v.constant {
        Ok(())
    } else {
        Err(format!(
            "input `{what}` must be a weight (an initializer), not a computed value"
        ))
    }
}

fn known(d: Dim, what: &str) -> std::result::Result<i64, String> {
    match d {
        Dim::K(k) => Ok(k),
        Dim::N => Err(format!(
            "{what} is the batch dimension N, expected a known size"
        )),
    }
}

fn rank(v: &Value, what: &str, r: usize) -> std::result::Result<(), String> {
    if v.shape.len() != r {
        Err(format!(
            "input `{what}` has rank {} {}, expected rank {r}",
            v.shape.len(),
            show(&v.shape)
        ))
    } else {
        Ok(())
    }
}

fn float(v: &Value, what: &str) -> std::result::Result<(), String> {
    if v.ty != Ty::F32 {
        Err(format!(
            "input `{what}` is {}, expected float32",
            v.ty.name()
        ))
    } else {
        Ok(())
    }
}

/// NumPy broadcasting with the batch symbol: N with 1 or N, a size with 1 or itself.
fn broadcast(a: &[Dim], b: &[Dim]) -> std::result::Result<Vec<Dim>, String> {
    let r = a.len().max(b.len());
    let at = |s: &[Dim], i: usize| {
        if i + s.len() >= r {
            s[i + s.len() - r]
        } else {
            Dim::K(1)
        }
    };
    (0..r)
        .map(|i| match (at(a, i), at(b, i)) {
            (x, y) if x == y => Ok(x),
            (Dim::K(1), y) => Ok(y),
            (x, Dim::K(1)) => Ok(x),
            (x, y) => Err(format!(
                "shapes {} and {} do not broadcast (dimension {i}: {x} vs {y})",
                show(a),
                show(b)
            )),
        })
        .collect()
}

fn out(ty: Ty, shape: Vec<Dim>) -> Option<Value> {
    Some(Value::new(ty, shape))
}

/// Checks one node and returns the values of its outputs (`None` for an unused, unnamed one).
fn infer(n: &NodeProto, values: &HashMap<String, Value>) -> Inferred {
    use AttributeType::{Int, Ints};
    if !n.domain.is_empty() && n.domain != "ai.onnx" {
        return Err(format!("domain `{}` is not the default one", n.domain));
    }
    match n.op_type.as_str() {
        "DequantizeLinear" => {
            attrs_only(n, &[("axis", Int)])?;
            let v = inputs(n, values, &["x", "x_scale", "x_zero_point"])?;
            let (x, s, z) = (
                need(v[0], "x")?,
                need(v[1], "x_scale")?,
                need(v[2], "x_zero_point")?,
            );
            if x.ty != Ty::I8 || !x.constant {
                return Err("input `x` must be an int8 initializer".into());
            }
            let axis = need_int(n, "axis")?;
            if !(0..x.shape.len() as i64).contains(&axis) {
                return Err(format!(
                    "axis {axis} is outside the rank {} of `x`",
                    x.shape.len()
                ));
            }
            let c = x.shape[axis as usize];
            expect(s, "x_scale", Ty::F32, &[c])?;
            expect(z, "x_zero_point", Ty::I8, &[c])?;
            konst(s, "x_scale")?;
            if let Some(f) = &s.floats {
                if let Some(i) = f.iter().position(|&v| v <= 0.0) {
                    return Err(format!("scale {i} is {}, expected a positive number", f[i]));
                }
            }
            if z.int8.as_ref().is_none_or(|z| z.iter().any(|&v| v != 0)) {
                return Err("zero points must all be 0 (symmetric int8)".into());
            }
            let mut o = Value::new(Ty::F32, x.shape.clone());
            o.constant = true;
            Ok(vec![Some(o)])
        }
        "Gather" => {
            attrs_only(n, &[("axis", Int)])?;
            if int_attr(n, "axis").unwrap_or(0) != 0 {
                return Err("axis must be 0".into());
            }
            let v = inputs(n, values, &["data", "indices"])?;
            let (d, i) = (need(v[0], "data")?, need(v[1], "indices")?);
            float(d, "data")?;
            konst(d, "data")?;
            rank(d, "data", 2)?;
            if d.shape[0] != Dim::K(BRAND_BUCKETS as i64) {
                return Err(format!(
                    "the embedding has {} rows, expected {BRAND_BUCKETS} (one per brand bucket)",
                    d.shape[0]
                ));
            }
            if !i.brand_input {
                return Err("input `indices` must be the graph input `brand_bucket`".into());
            }
            let mut s = i.shape.clone();
            s.push(d.shape[1]);
            Ok(vec![out(Ty::F32, s)])
        }
        "Concat" => {
            attrs_only(n, &[("axis", Int)])?;
            let axis = need_int(n, "axis")?;
            if n.input.len() < 2 {
                return Err("needs at least 2 inputs".into());
            }
            let names: Vec<String> = (0..n.input.len()).map(|i| format!("inputs[{i}]")).collect();
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            let v = inputs(n, values, &refs)?;
            let first = need(v[0], "inputs[0]")?;
            float(first, "inputs[0]")?;
            let r = first.shape.len();
            if !(0..r as i64).contains(&axis) {
                return Err(format!("axis {axis} is outside rank {r}"));
            }
            let a = axis as usize;
            let mut s = first.shape.clone();
            let mut total = known(first.shape[a], "the concatenated dimension")?;
            for (k, x) in v.iter().enumerate().skip(1) {
                let x = need(*x, &names[k])?;
                float(x, &names[k])?;
                if x.shape.len() != r
                    || x.shape
                        .iter()
                        .zip(&first.shape)
                        .enumerate()
                        .any(|(i, (p, q))| i != a && p != q)
                {
                    return Err(format!(
                        "{} {} does not fit {} along axis {axis}",
                        names[k],
                        show(&x.shape),
                        show(&first.shape)
                    ));
                }
                total += known(x.shape[a], "the concatenated dimension")?;
            }
            s[a] = Dim::K(total);
            Ok(vec![out(Ty::F32, s)])
        }
        "Transpose" => {
            attrs_only(n, &[("perm", Ints)])?;
            let v = inputs(n, values, &["data"])?;
            let d = need(v[0], "data")?;
            let perm = need_ints(n, "perm")?;
            let mut sorted = perm.to_vec();
            sorted.sort_unstable();
            if sorted != (0..d.shape.len() as i64).collect::<Vec<_>>() {
                return Err(format!(
                    "perm {perm:?} is not a permutation of rank {}",
                    d.shape.len()
                ));
            }
            let mut o = d.clone();
            o.shape = perm.iter().map(|&p| d.shape[p as usize]).collect();
            o.brand_input = false;
            Ok(vec![Some(o)])
        }
        "Conv" => {
            attrs_only(n, &[("kernel_shape", Ints), ("pads", Ints)])?;
            if need_ints(n, "kernel_shape")? != [3] || need_ints(n, "pads")? != [1, 1] {
                return Err(
                    "expected kernel_shape [3] and pads [1, 1] (the exporter's Conv1d k3)".into(),
                );
            }
            let v = inputs(n, values, &["X", "W", "B"])?;
            let (x, w, b) = (need(v[0], "X")?, need(v[1], "W")?, need(v[2], "B")?);
            float(x, "X")?;
            rank(x, "X", 3)?;
            if x.shape[0] != Dim::N {
                return Err(format!(
                    "input `X` {} must have the batch N first",
                    show(&x.shape)
                ));
            }
            let c = known(x.shape[1], "the channel dimension of `X`")?;
            konst(w, "W")?;
            float(w, "W")?;
            rank(w, "W", 3)?;
            let o = w.shape[0];
            expect(w, "W", Ty::F32, &[o, Dim::K(c), Dim::K(3)])?;
            konst(b, "B")?;
            expect(b, "B", Ty::F32, &[o])?;
            Ok(vec![out(Ty::F32, vec![Dim::N, o, x.shape[2]])])
        }
        "Relu" => {
            attrs_only(n, &[])?;
            let v = inputs(n, values, &["X"])?;
            let x = need(v[0], "X")?;
            float(x, "X")?;
            Ok(vec![out(Ty::F32, x.shape.clone())])
        }
        "GRU" | "LSTM" => recurrent(n, values),
        "Slice" => {
            attrs_only(n, &[])?;
            let v = inputs(n, values, &["data", "starts", "ends", "axes"])?;
            let d = need(v[0], "data")?;
            float(d, "data")?;
            let get = |k: usize, what: &str| -> std::result::Result<Vec<i64>, String> {
                let x = need(v[k], what)?;
                x.ints
                    .clone()
                    .filter(|_| x.ty == Ty::I64 && x.shape.len() == 1)
                    .ok_or_else(|| format!("input `{what}` must be a 1-D int64 initializer"))
            };
            let (starts, ends, axes) = (get(1, "starts")?, get(2, "ends")?, get(3, "axes")?);
            if starts.len() != ends.len() || starts.len() != axes.len() {
                return Err("starts, ends and axes differ in length".into());
            }
            let mut s = d.shape.clone();
            let mut seen = HashSet::new();
            for ((&st, &en), &ax) in starts.iter().zip(&ends).zip(&axes) {
                if !(0..s.len() as i64).contains(&ax) || !seen.insert(ax) {
                    return Err(format!("axis {ax} is outside rank {} or repeated", s.len()));
                }
                let dim = known(s[ax as usize], &format!("sliced dimension {ax}"))?;
                let clamp = |x: i64| {
                    if x < 0 {
                        (x + dim).clamp(0, dim)
                    } else {
                        x.min(dim)
                    }
                };
                let len = clamp(en) - clamp(st);
                if len < 1 {
                    return Err(format!(
                        "slice {st}..{en} of dimension {ax} (size {dim}) is empty"
                    ));
                }
                s[ax as usize] = Dim::K(len);
            }
            Ok(vec![out(Ty::F32, s)])
        }
        "Mul" | "Div" | "Max" => {
            attrs_only(n, &[])?;
            let v = inputs(n, values, &["A", "B"])?;
            let (a, b) = (need(v[0], "A")?, need(v[1], "B")?);
            float(a, "A")?;
            float(b, "B")?;
            let mut o = Value::new(Ty::F32, broadcast(&a.shape, &b.shape)?);
            o.constant = a.constant && b.constant;
            Ok(vec![Some(o)])
        }
        "Expand" => {
            attrs_only(n, &[])?;
            let v = inputs(n, values, &["input", "shape"])?;
            let (x, s) = (need(v[0], "input")?, need(v[1], "shape")?);
            float(x, "input")?;
            let shape = s
                .ints
                .clone()
                .filter(|_| s.ty == Ty::I64 && s.shape.len() == 1)
                .ok_or("input `shape` must be a 1-D int64 initializer")?;
            if shape.iter().any(|&d| !(1..=MAX_DIM).contains(&d)) {
                return Err(format!(
                    "shape {shape:?} has a dimension outside 1..={MAX_DIM}"
                ));
            }
            let target: Vec<Dim> = shape.iter().map(|&d| Dim::K(d)).collect();
            Ok(vec![out(Ty::F32, broadcast(&x.shape, &target)?)])
        }
        "Flatten" => {
            attrs_only(n, &[("axis", Int)])?;
            if need_int(n, "axis")? != 1 {
                return Err("axis must be 1".into());
            }
            let v = inputs(n, values, &["input"])?;
            let x = need(v[0], "input")?;
            float(x, "input")?;
            if x.shape.len() < 2 {
                return Err(format!("input {} has rank below 2", show(&x.shape)));
            }
            let mut rest = 1i64;
            for (i, d) in x.shape.iter().enumerate().skip(1) {
                rest = rest.saturating_mul(known(*d, &format!("dimension {i}"))?);
            }
            Ok(vec![out(Ty::F32, vec![x.shape[0], Dim::K(rest)])])
        }
        "ReduceMax" | "ReduceSum" => {
            let v = if n.op_type == "ReduceMax" {
                attrs_only(n, &[("axes", Ints), ("keepdims", Int)])?;
                inputs(n, values, &["data"])?
            } else {
                attrs_only(n, &[("keepdims", Int)])?;
                inputs(n, values, &["data", "axes"])?
            };
            let x = need(v[0], "data")?;
            float(x, "data")?;
            let axes: Vec<i64> = if n.op_type == "ReduceMax" {
                need_ints(n, "axes")?.to_vec()
            } else {
                let a = need(v[1], "axes")?;
                a.ints
                    .clone()
                    .filter(|_| a.ty == Ty::I64)
                    .ok_or("input `axes` must be an int64 initializer")?
            };
            let keep = int_attr(n, "keepdims").unwrap_or(1);
            if keep != 0 && keep != 1 {
                return Err(format!("keepdims {keep} is not 0 or 1"));
            }
            let mut s = Vec::new();
            for (i, d) in x.shape.iter().enumerate() {
                if axes.contains(&(i as i64)) {
                    if *d == Dim::N {
                        return Err("reduces over the batch dimension N".into());
                    }
                    if keep == 1 {
                        s.push(Dim::K(1));
                    }
                } else {
                    s.push(*d);
                }
            }
            if axes.is_empty()
                || axes
                    .iter()
                    .any(|&a| !(0..x.shape.len() as i64).contains(&a))
            {
                return Err(format!(
                    "axes {axes:?} are empty or outside rank {}",
                    x.shape.len()
                ));
            }
            Ok(vec![out(Ty::F32, s)])
        }
        "Gemm" => {
            attrs_only(n, &[("transB", Int)])?;
            if need_int(n, "transB")? != 1 {
                return Err("transB must be 1".into());
            }
            let v = inputs(n, values, &["A", "B", "C"])?;
            let (a, b, c) = (need(v[0], "A")?, need(v[1], "B")?, need(v[2], "C")?);
            float(a, "A")?;
            rank(a, "A", 2)?;
            if a.shape[0] != Dim::N {
                return Err(format!(
                    "input `A` {} must have the batch N first",
                    show(&a.shape)
                ));
            }
            konst(b, "B")?;
            float(b, "B")?;
            rank(b, "B", 2)?;
            expect(b, "B", Ty::F32, &[b.shape[0], a.shape[1]])?;
            konst(c, "C")?;
            expect(c, "C", Ty::F32, &[b.shape[0]])?;
            Ok(vec![out(Ty::F32, vec![Dim::N, b.shape[0]])])
        }
        "Softmax" | "Sigmoid" => {
            if n.op_type == "Softmax" {
                attrs_only(n, &[("axis", Int)])?;
                if need_int(n, "axis")? != 1 {
                    return Err("axis must be 1".into());
                }
            } else {
                attrs_only(n, &[])?;
            }
            let v = inputs(n, values, &["input"])?;
            let x = need(v[0], "input")?;
            float(x, "input")?;
            rank(x, "input", 2)?;
            Ok(vec![out(Ty::F32, x.shape.clone())])
        }
        other => Err(format!(
            "operator `{other}` is not one nextevent's exporter writes"
        )),
    }
}

/// GRU (gates z, r, h; `linear_before_reset = 1`) and LSTM (gates i, o, f, c), as exported.
fn recurrent(n: &NodeProto, values: &HashMap<String, Value>) -> Inferred {
    use AttributeType::{Int, String as Str};
    let gru = n.op_type == "GRU";
    if gru {
        attrs_only(
            n,
            &[
                ("direction", Str),
                ("hidden_size", Int),
                ("linear_before_reset", Int),
            ],
        )?;
        if need_int(n, "linear_before_reset")? != 1 {
            return Err("linear_before_reset must be 1 (burn's GRU applies the reset after the hidden transform)".into());
        }
    } else {
        attrs_only(n, &[("direction", Str), ("hidden_size", Int)])?;
    }
    let direction = string_attr(n, "direction").ok_or("attribute `direction` is missing")?;
    let dirs: i64 = match (direction.as_str(), gru) {
        ("forward", _) => 1,
        ("bidirectional", true) => 2,
        (d, _) => return Err(format!("direction {d:?} is not one the exporter writes")),
    };
    let h = need_int(n, "hidden_size")?;
    if !(1..=MAX_HIDDEN).contains(&h) {
        return Err(format!("hidden_size {h} is outside 1..={MAX_HIDDEN}"));
    }
    let names: &[&str] = if gru {
        &["X", "W", "R", "B", "sequence_lens", "initial_h"]
    } else {
        &[
            "X",
            "W",
            "R",
            "B",
            "sequence_lens",
            "initial_h",
            "initial_c",
        ]
    };
    let v = inputs(n, values, names)?;
    if v[4].is_some() {
        return Err(
            "input `sequence_lens` must be empty (windows are padded to a fixed length)".into(),
        );
    }
    let x = need(v[0], "X")?;
    float(x, "X")?;
    rank(x, "X", 3)?;
    if x.shape[1] != Dim::N || x.shape[0] == Dim::N {
        return Err(format!(
            "input `X` {} must be [T, N, input]",
            show(&x.shape)
        ));
    }
    let input = x.shape[2];
    known(input, "the input size of `X`")?;
    let gates = if gru { 3 } else { 4 };
    let (d, hd) = (Dim::K(dirs), Dim::K(h));
    for (k, what, shape) in [
        (1, "W", vec![d, Dim::K(gates * h), input]),
        (2, "R", vec![d, Dim::K(gates * h), hd]),
        (3, "B", vec![d, Dim::K(2 * gates * h)]),
    ] {
        let w = need(v[k], what)?;
        konst(w, what)?;
        expect(w, what, Ty::F32, &shape)
            .map_err(|e| format!("{e} (hidden_size {h}, {dirs} direction(s))"))?;
    }
    for (k, what) in names.iter().enumerate().skip(5) {
        let s = v[k].ok_or_else(|| {
            format!(
                "optional input `{what}` is missing (nextevent's exporter writes an explicit zero \
                 state: tract cannot size an implicit one for a symbolic batch)"
            )
        })?;
        expect(s, what, Ty::F32, &[d, Dim::N, hd])?;
    }
    if n.output.len() != 2 {
        return Err(format!(
            "has {} outputs, expected 2 (an unused, empty `Y` and `Y_h`)",
            n.output.len()
        ));
    }
    Ok(vec![None, out(Ty::F32, vec![d, Dim::N, hd])])
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    #[test]
    fn the_shipped_model_passes_and_broadcasting_keeps_the_batch_symbolic() {
        let m = ModelProto::decode(crate::core::predict::EMBEDDED_MODEL).unwrap();
        check(&m, &FeatureSpec::current()).unwrap();
        let b = broadcast(
            &[Dim::K(1), Dim::N, Dim::K(1)],
            &[Dim::K(2), Dim::K(1), Dim::K(32)],
        );
        assert_eq!(b.unwrap(), [Dim::K(2), Dim::N, Dim::K(32)]);
        assert!(
            broadcast(&[Dim::N], &[Dim::K(3)]).is_err(),
            "N against a size is unknown"
        );
        assert_eq!(
            broadcast(&[Dim::N, Dim::K(8)], &[Dim::N, Dim::K(1)]).unwrap(),
            [Dim::N, Dim::K(8)]
        );
    }

    #[test]
    fn a_spec_with_context_needs_the_context_input() {
        let m = ModelProto::decode(crate::core::predict::EMBEDDED_MODEL).unwrap();
        let spec = FeatureSpec::with_context(crate::core::context::Calendar::default());
        let e = check(&m, &spec).unwrap_err().to_string();
        assert!(
            e.contains(r#"expected ["features", "brand_bucket", "context"]"#),
            "{e}"
        );
    }
}
