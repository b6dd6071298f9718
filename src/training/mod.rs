//! Training (feature `train`, native, implies `data`): the synthetic generator, the burn
//! networks, the fitting loop, ONNX export, the pipeline, the model card and the comparison.

pub mod card;
pub mod compare;
pub mod compare_real;
pub mod conversion;
pub mod export;
pub mod fit;
pub mod fit_table;
pub mod net;
pub mod pipeline;
pub mod process;
pub mod real;
pub mod ship;
pub mod synth;
