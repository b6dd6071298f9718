//! The CNN + bidirectional GRU in burn (training side): brand embedding, Conv1d + ReLU over
//! the window, a BiGRU whose final states feed a dense layer over the four kinds.

use burn::module::Module;
use burn::nn::conv::{Conv1d, Conv1dConfig};
use burn::nn::{Embedding, EmbeddingConfig, Gru, GruConfig, Linear, LinearConfig, PaddingConfig1d};
use burn::tensor::activation::{relu, sigmoid, tanh};
use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::encode::Batch;
use crate::spec::{BRAND_BUCKETS, N_FEATURES, WINDOW};

/// Layer sizes of the CNN+BiGRU.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ModelConfig {
    pub embed_dim: usize,
    pub conv_channels: usize,
    pub hidden: usize,
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            embed_dim: 8,
            conv_channels: 32,
            hidden: 32,
        }
    }
}

/// The hybrid model. Parameter layouts are those of burn (Linear weights `[d_in, d_out]`,
/// GRU gates update/reset/new with reset applied after the hidden transform).
#[derive(Module, Debug)]
pub struct CnnBiGru {
    pub embed: Embedding,
    pub conv: Conv1d,
    pub gru_forward: Gru,
    pub gru_backward: Gru,
    pub head: Linear,
}

impl ModelConfig {
    pub fn init(&self, device: &Device) -> CnnBiGru {
        let c_in = N_FEATURES + self.embed_dim;
        CnnBiGru {
            embed: EmbeddingConfig::new(BRAND_BUCKETS, self.embed_dim).init(device),
            conv: Conv1dConfig::new(c_in, self.conv_channels, 3)
                .with_padding(PaddingConfig1d::Explicit(1, 1))
                .init(device),
            gru_forward: GruConfig::new(self.conv_channels, self.hidden, true).init(device),
            gru_backward: GruConfig::new(self.conv_channels, self.hidden, true).init(device),
            head: LinearConfig::new(2 * self.hidden, 4).init(device),
        }
    }

    /// Number of trainable parameters.
    pub fn parameters(&self) -> usize {
        let c_in = N_FEATURES + self.embed_dim;
        let (c, h) = (self.conv_channels, self.hidden);
        BRAND_BUCKETS * self.embed_dim
            + c * c_in * 3
            + c
            + 2 * (3 * h * c + 3 * h * h + 6 * h)
            + 2 * h * 4
            + 4
    }
}

/// Final hidden state of a GRU run over `x` `[b, t, d]`, forwards or backwards in time,
/// from a zero state. Same maths as burn's `Gru::forward` and ONNX GRU with
/// `linear_before_reset = 1`, without materialising every step's state.
pub fn gru_final_state(g: &Gru, x: Tensor<3>, reverse: bool) -> Tensor<2> {
    let [b, t, _] = x.dims();
    let h_dim = g.d_hidden;
    let xz = g.update_gate.input_transform.forward(x.clone());
    let xr = g.reset_gate.input_transform.forward(x.clone());
    let xn = g.new_gate.input_transform.forward(x);
    let mut h: Tensor<2> = Tensor::zeros([b, h_dim], &xz.device());
    for step in 0..t {
        let i = if reverse { t - 1 - step } else { step };
        let at = |m: &Tensor<3>| m.clone().narrow(1, i, 1).reshape([b, h_dim]);
        let z = sigmoid(at(&xz) + g.update_gate.hidden_transform.forward(h.clone()));
        let r = sigmoid(at(&xr) + g.reset_gate.hidden_transform.forward(h.clone()));
        let n = tanh(at(&xn) + r * g.new_gate.hidden_transform.forward(h.clone()));
        h = n * (z.clone().neg().add_scalar(1.0)) + z * h;
    }
    h
}

impl CnnBiGru {
    /// Logits `[b, 4]` for features `[b, T, F]` and brand buckets `[b, T]`.
    pub fn forward(&self, features: Tensor<3>, brands: Tensor<2, Int>) -> Tensor<2> {
        let e = self.embed.forward(brands);
        let x = Tensor::cat(vec![features, e], 2).swap_dims(1, 2);
        let x = relu(self.conv.forward(x)).swap_dims(1, 2);
        let hf = gru_final_state(&self.gru_forward, x.clone(), false);
        let hb = gru_final_state(&self.gru_backward, x, true);
        self.head.forward(Tensor::cat(vec![hf, hb], 1))
    }

    /// Logits for an encoded batch.
    pub fn forward_batch(&self, batch: &Batch, device: &Device) -> Tensor<2> {
        let (f, b) = batch_tensors(batch, device);
        self.forward(f, b)
    }
}

/// Moves an encoded batch onto a device.
pub fn batch_tensors(batch: &Batch, device: &Device) -> (Tensor<3>, Tensor<2, Int>) {
    let f = Tensor::<3>::from_data(
        TensorData::new(batch.features.clone(), [batch.n, WINDOW, N_FEATURES]),
        device,
    );
    let b = Tensor::<2, Int>::from_data(
        TensorData::new(batch.brands.clone(), [batch.n, WINDOW]),
        device,
    );
    (f, b)
}

/// A tensor's values as `f32`s.
pub fn to_vec_f32<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .expect("f32 tensor data")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_gru_matches_burn_gru() {
        let device = Device::default();
        device.seed(7);
        let g = GruConfig::new(5, 4, true).init(&device);
        let x = Tensor::<3>::random(
            [3, 6, 5],
            burn::tensor::Distribution::Normal(0.0, 1.0),
            &device,
        );
        let burn_all = g.forward(x.clone(), None);
        let burn_last = burn_all.narrow(1, 5, 1).reshape([3, 4]);
        let ours = gru_final_state(&g, x, false);
        let (a, b) = (to_vec_f32(burn_last), to_vec_f32(ours));
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() < 1e-5, "{x} vs {y}");
        }
    }

    #[test]
    fn parameter_count_matches_the_module() {
        let cfg = ModelConfig::default();
        let m = cfg.init(&Device::default());
        assert_eq!(m.num_params(), cfg.parameters());
    }
}
