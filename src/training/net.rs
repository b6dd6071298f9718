//! The networks in burn (training side): a brand embedding feeding one of five architectures
//! — the shipped CNN+BiGRU and the baselines it is compared with (BiGRU, GRU, LSTM, CNN) —
//! and a dense layer over the four kinds.

use burn::module::Module;
use burn::nn::conv::{Conv1d, Conv1dConfig};
use burn::nn::{
    Embedding, EmbeddingConfig, Gru, GruConfig, Linear, LinearConfig, Lstm, LstmConfig,
    PaddingConfig1d,
};
use burn::tensor::activation::{relu, sigmoid, tanh};
use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::core::encode::Batch;
use crate::core::spec::{BRAND_BUCKETS, N_FEATURES, WINDOW};

/// The architectures; all share the encoder, the brand embedding and the dense head.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arch {
    /// Conv1d k3 + ReLU, then a bidirectional GRU; the final states of both directions.
    #[default]
    #[serde(rename = "cnn_bigru", alias = "cnn_bi_gru")]
    CnnBiGru,
    /// A bidirectional GRU on the embedded events.
    #[serde(rename = "bigru", alias = "bi_gru")]
    BiGru,
    /// A GRU (forwards in time); its final state.
    Gru,
    /// An LSTM (forwards in time); its final hidden state.
    Lstm,
    /// Two Conv1d k3 + ReLU layers; the last step's channels and each channel's max over time.
    Cnn,
}

impl Arch {
    pub const ALL: [Arch; 5] = [
        Arch::CnnBiGru,
        Arch::Lstm,
        Arch::Gru,
        Arch::BiGru,
        Arch::Cnn,
    ];

    /// The name used in commands, files and tracking (`cnn_bigru`, `lstm`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Arch::CnnBiGru => "cnn_bigru",
            Arch::BiGru => "bigru",
            Arch::Gru => "gru",
            Arch::Lstm => "lstm",
            Arch::Cnn => "cnn",
        }
    }

    /// The name people read (`CNN+BiGRU`, `LSTM`, …).
    pub fn label(self) -> &'static str {
        match self {
            Arch::CnnBiGru => "CNN+BiGRU",
            Arch::BiGru => "BiGRU",
            Arch::Gru => "GRU",
            Arch::Lstm => "LSTM",
            Arch::Cnn => "CNN",
        }
    }

    /// Parses [`Arch::as_str`] names (also accepts `cnn+bigru`, any case).
    pub fn parse(s: &str) -> Option<Arch> {
        let s = s.trim().to_ascii_lowercase().replace(['+', '-'], "_");
        Arch::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

impl std::fmt::Display for Arch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Architecture and layer sizes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    #[serde(default)]
    pub arch: Arch,
    pub embed_dim: usize,
    pub conv_channels: usize,
    pub hidden: usize,
    /// Reads the calendar's context features beside the per-event features (off by default).
    #[serde(default)]
    pub context: bool,
    /// Adds a session-level vector to the head's input: the mean brand embedding of the
    /// window's events (off by default).
    #[serde(default)]
    pub brand_pool: bool,
    /// The heads also read the last event's own features, a linear path around the network:
    /// with it a model can represent a first-order Markov chain (plus the run and count
    /// features) exactly, and the recurrent body learns what it adds.
    #[serde(default)]
    pub skip: bool,
    /// A second head: P(a purchase follows later in this session), trained jointly.
    #[serde(default)]
    pub conversion: bool,
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            arch: Arch::CnnBiGru,
            embed_dim: 8,
            conv_channels: 32,
            hidden: 32,
            context: false,
            brand_pool: false,
            skip: false,
            conversion: false,
        }
    }
}

/// A network of any [`Arch`]: the layers an architecture does not use are `None`. Parameter
/// layouts are those of burn (Linear weights `[d_in, d_out]`; GRU gates update/reset/new with
/// reset applied after the hidden transform; LSTM gates input/forget/output/cell).
#[derive(Module, Debug)]
pub struct Net {
    pub embed: Embedding,
    pub conv: Option<Conv1d>,
    pub conv2: Option<Conv1d>,
    pub gru_forward: Option<Gru>,
    pub gru_backward: Option<Gru>,
    pub lstm: Option<Lstm>,
    pub head: Linear,
    /// The conversion head (one logit), when the model has one.
    pub convert: Option<Linear>,
    /// Context features expected after the per-event features (0 = none).
    pub context_features: usize,
    /// Whether the head also reads the window's mean brand embedding.
    pub brand_pool: bool,
    /// Whether the heads also read the last event's features.
    pub skip: bool,
}

/// The shipped model's type, kept for readers who look for it by name.
pub type CnnBiGru = Net;

impl ModelConfig {
    /// A config of `arch` with the default sizes.
    pub fn of(arch: Arch) -> Self {
        ModelConfig {
            arch,
            ..ModelConfig::default()
        }
    }

    /// Context features per event (0 when off).
    pub fn context_features(&self) -> usize {
        if self.context {
            crate::core::context::N_CONTEXT
        } else {
            0
        }
    }

    fn c_in(&self) -> usize {
        N_FEATURES + self.context_features() + self.embed_dim
    }

    /// Width of the vector the dense head reads.
    fn head_in(&self) -> usize {
        let body = match self.arch {
            Arch::CnnBiGru | Arch::BiGru => 2 * self.hidden,
            Arch::Gru | Arch::Lstm => self.hidden,
            Arch::Cnn => 2 * self.conv_channels,
        };
        body + if self.brand_pool { self.embed_dim } else { 0 }
            + if self.skip { N_FEATURES } else { 0 }
    }

    pub fn init(&self, device: &Device) -> Net {
        let c_in = self.c_in();
        let conv = |i: usize| {
            Conv1dConfig::new(i, self.conv_channels, 3)
                .with_padding(PaddingConfig1d::Explicit(1, 1))
                .init(device)
        };
        let gru = |i: usize| GruConfig::new(i, self.hidden, true).init(device);
        let (a, ch) = (self.arch, self.conv_channels);
        Net {
            embed: EmbeddingConfig::new(BRAND_BUCKETS, self.embed_dim).init(device),
            conv: matches!(a, Arch::CnnBiGru | Arch::Cnn).then(|| conv(c_in)),
            conv2: (a == Arch::Cnn).then(|| conv(ch)),
            gru_forward: match a {
                Arch::CnnBiGru => Some(gru(ch)),
                Arch::BiGru | Arch::Gru => Some(gru(c_in)),
                _ => None,
            },
            gru_backward: match a {
                Arch::CnnBiGru => Some(gru(ch)),
                Arch::BiGru => Some(gru(c_in)),
                _ => None,
            },
            lstm: (a == Arch::Lstm).then(|| LstmConfig::new(c_in, self.hidden, true).init(device)),
            head: LinearConfig::new(self.head_in(), 4).init(device),
            convert: self
                .conversion
                .then(|| LinearConfig::new(self.head_in(), 1).init(device)),
            context_features: self.context_features(),
            brand_pool: self.brand_pool,
            skip: self.skip,
        }
    }

    /// Number of trainable parameters.
    pub fn parameters(&self) -> usize {
        let c_in = self.c_in();
        let (c, h) = (self.conv_channels, self.hidden);
        let conv = |i: usize| c * i * 3 + c;
        let gru = |i: usize| 3 * h * i + 3 * h * h + 6 * h;
        let body = match self.arch {
            Arch::CnnBiGru => conv(c_in) + 2 * gru(c),
            Arch::BiGru => 2 * gru(c_in),
            Arch::Gru => gru(c_in),
            Arch::Lstm => 4 * h * c_in + 4 * h * h + 8 * h,
            Arch::Cnn => conv(c_in) + conv(c),
        };
        let conversion = if self.conversion {
            self.head_in() + 1
        } else {
            0
        };
        BRAND_BUCKETS * self.embed_dim + body + self.head_in() * 4 + 4 + conversion
    }

    /// One line describing the layers, for the model card and the ONNX metadata.
    pub fn describe(&self) -> String {
        let (e, c, h) = (self.embed_dim, self.conv_channels, self.hidden);
        let emb = format!("brand embedding {BRAND_BUCKETS}×{e}");
        let body = match self.arch {
            Arch::CnnBiGru => format!("Conv1d k3 {c} ch + ReLU → BiGRU hidden {h}"),
            Arch::BiGru => format!("BiGRU hidden {h}"),
            Arch::Gru => format!("GRU hidden {h}"),
            Arch::Lstm => format!("LSTM hidden {h}"),
            Arch::Cnn => format!("2 × (Conv1d k3 {c} ch + ReLU) → last step ‖ max over time"),
        };
        let ctx = if self.context {
            " + calendar context (promo day, holiday, promo within 3 days)"
        } else {
            ""
        };
        let pool = if self.brand_pool {
            " ‖ mean brand embedding of the window"
        } else {
            ""
        };
        let skip = if self.skip {
            " ‖ last event's features"
        } else {
            ""
        };
        let heads = if self.conversion {
            "dense 4 → softmax (next event); dense 1 → sigmoid (purchase later in the session)"
        } else {
            "dense 4 → softmax"
        };
        format!("{emb}{ctx} → {body}{pool}{skip} → {heads} (T = {WINDOW})")
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

/// Final hidden state of an LSTM run forwards over `x` `[b, t, d]` from zero states. Same
/// maths as burn's `Lstm::forward` with its defaults (sigmoid gates, tanh cell and hidden
/// activations, separate forget gate) and as ONNX LSTM.
pub fn lstm_final_state(l: &Lstm, x: Tensor<3>) -> Tensor<2> {
    let [b, t, _] = x.dims();
    let h_dim = l.d_hidden;
    let forget = l.forget_gate.as_ref().expect("LSTM with a forget gate");
    let xi = l.input_gate.input_transform.forward(x.clone());
    let xf = forget.input_transform.forward(x.clone());
    let xo = l.output_gate.input_transform.forward(x.clone());
    let xc = l.cell_gate.input_transform.forward(x);
    let mut h: Tensor<2> = Tensor::zeros([b, h_dim], &xi.device());
    let mut c: Tensor<2> = Tensor::zeros([b, h_dim], &xi.device());
    for step in 0..t {
        let at = |m: &Tensor<3>| m.clone().narrow(1, step, 1).reshape([b, h_dim]);
        let i = sigmoid(at(&xi) + l.input_gate.hidden_transform.forward(h.clone()));
        let f = sigmoid(at(&xf) + forget.hidden_transform.forward(h.clone()));
        let o = sigmoid(at(&xo) + l.output_gate.hidden_transform.forward(h.clone()));
        let g = tanh(at(&xc) + l.cell_gate.hidden_transform.forward(h.clone()));
        c = f * c + i * g;
        h = o * tanh(c.clone());
    }
    h
}

impl Net {
    /// Which architecture this network is, from the layers it has.
    pub fn arch(&self) -> Arch {
        match (
            self.conv.is_some(),
            self.gru_backward.is_some(),
            self.gru_forward.is_some(),
            self.lstm.is_some(),
        ) {
            (true, true, _, _) => Arch::CnnBiGru,
            (false, true, _, _) => Arch::BiGru,
            (_, false, true, _) => Arch::Gru,
            (_, _, _, true) => Arch::Lstm,
            _ => Arch::Cnn,
        }
    }

    /// Logits `[b, 4]` for features `[b, T, F]` and brand buckets `[b, T]`.
    pub fn forward(&self, features: Tensor<3>, brands: Tensor<2, Int>) -> Tensor<2> {
        self.forward_heads(features, brands).0
    }

    /// The next-event logits `[b, 4]` and, with a conversion head, its logit `[b, 1]`.
    pub fn forward_heads(
        &self,
        features: Tensor<3>,
        brands: Tensor<2, Int>,
    ) -> (Tensor<2>, Option<Tensor<2>>) {
        let skip = self.skip.then(|| {
            let [b, t, _] = features.dims();
            features
                .clone()
                .narrow(1, t - 1, 1)
                .narrow(2, 0, N_FEATURES)
                .reshape([b, N_FEATURES])
        });
        let e = self.embed.forward(brands);
        let pooled = self.brand_pool.then(|| {
            // Mean embedding over the window's events (feature 0 is `is_event`).
            let [b, _, d] = e.dims();
            let mask = features.clone().narrow(2, 0, 1); // [b, T, 1]
            let sum = (e.clone() * mask.clone()).sum_dim(1).reshape([b, d]);
            let count = mask.sum_dim(1).reshape([b, 1]).clamp_min(1.0);
            sum / count
        });
        let mut x = Tensor::cat(vec![features, e], 2); // [b, T, C]
        let conv = |c: &Conv1d, x: Tensor<3>| relu(c.forward(x.swap_dims(1, 2))).swap_dims(1, 2);
        if let Some(c) = &self.conv {
            x = conv(c, x);
        }
        let h = if let Some(c2) = &self.conv2 {
            let x = conv(c2, x);
            let [b, t, ch] = x.dims();
            let last = x.clone().narrow(1, t - 1, 1).reshape([b, ch]);
            let max = x.max_dim(1).reshape([b, ch]);
            Tensor::cat(vec![last, max], 1)
        } else if let Some(l) = &self.lstm {
            lstm_final_state(l, x)
        } else {
            let g = self.gru_forward.as_ref().expect("a recurrent layer");
            let hf = gru_final_state(g, x.clone(), false);
            match &self.gru_backward {
                Some(gb) => Tensor::cat(vec![hf, gru_final_state(gb, x, true)], 1),
                None => hf,
            }
        };
        let h = match pooled {
            Some(p) => Tensor::cat(vec![h, p], 1),
            None => h,
        };
        let h = match skip {
            Some(s) => Tensor::cat(vec![h, s], 1),
            None => h,
        };
        let conversion = self.convert.as_ref().map(|c| c.forward(h.clone()));
        (self.head.forward(h), conversion)
    }

    /// Logits for an encoded batch.
    pub fn forward_batch(&self, batch: &Batch, device: &Device) -> Tensor<2> {
        self.forward_heads_batch(batch, device).0
    }

    /// Both heads' logits for an encoded batch.
    pub fn forward_heads_batch(
        &self,
        batch: &Batch,
        device: &Device,
    ) -> (Tensor<2>, Option<Tensor<2>>) {
        let (f, b) = batch_tensors(batch, device);
        self.forward_heads(f, b)
    }
}

/// Moves an encoded batch onto a device; context features, when the batch has them, are
/// appended to each event's features.
pub fn batch_tensors(batch: &Batch, device: &Device) -> (Tensor<3>, Tensor<2, Int>) {
    let mut f = Tensor::<3>::from_data(
        TensorData::new(batch.features.clone(), [batch.n, WINDOW, N_FEATURES]),
        device,
    );
    if !batch.context.is_empty() {
        let c = Tensor::<3>::from_data(
            TensorData::new(
                batch.context.clone(),
                [batch.n, WINDOW, crate::core::context::N_CONTEXT],
            ),
            device,
        );
        f = Tensor::cat(vec![f, c], 2);
    }
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

    fn close(a: Vec<f32>, b: Vec<f32>) {
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() < 1e-5, "{x} vs {y}");
        }
    }

    fn input(device: &Device) -> Tensor<3> {
        Tensor::<3>::random(
            [3, 6, 5],
            burn::tensor::Distribution::Normal(0.0, 1.0),
            device,
        )
    }

    #[test]
    fn own_gru_matches_burn_gru() {
        let device = Device::default();
        device.seed(7);
        let g = GruConfig::new(5, 4, true).init(&device);
        let x = input(&device);
        let burn_last = g.forward(x.clone(), None).narrow(1, 5, 1).reshape([3, 4]);
        close(
            to_vec_f32(burn_last),
            to_vec_f32(gru_final_state(&g, x, false)),
        );
    }

    #[test]
    fn own_lstm_matches_burn_lstm() {
        let device = Device::default();
        device.seed(8);
        let l = LstmConfig::new(5, 4, true).init(&device);
        let x = input(&device);
        let (all, state) = l.forward(x.clone(), None);
        let ours = lstm_final_state(&l, x);
        close(to_vec_f32(state.hidden), to_vec_f32(ours.clone()));
        close(
            to_vec_f32(all.narrow(1, 5, 1).reshape([3, 4])),
            to_vec_f32(ours),
        );
    }

    #[test]
    fn parameter_counts_match_the_modules_and_arch_round_trips() {
        let variants = Arch::ALL.into_iter().map(ModelConfig::of).chain([
            ModelConfig {
                context: true,
                brand_pool: true,
                ..ModelConfig::default()
            },
            ModelConfig {
                arch: Arch::Lstm,
                brand_pool: true,
                ..ModelConfig::default()
            },
            ModelConfig {
                skip: true,
                conversion: true,
                ..ModelConfig::default()
            },
            ModelConfig {
                arch: Arch::Cnn,
                skip: true,
                conversion: true,
                context: true,
                ..ModelConfig::default()
            },
        ]);
        for cfg in variants {
            let arch = cfg.arch;
            let m = cfg.init(&Device::default());
            assert_eq!(m.num_params(), cfg.parameters(), "{arch}");
            assert_eq!(m.arch(), arch);
            assert_eq!(Arch::parse(arch.as_str()), Some(arch));
            let events = crate::core::json::events_from_json(
                r#"[{"event_type":"view","product_id":1,"price":2.5,"event_time":"2020-01-01 10:00:00 UTC"}]"#,
            )
            .unwrap();
            let cal = crate::core::context::Calendar::kaggle_period_example().index();
            let mut batch = Batch::with_capacity(1);
            batch.push_with(&events, cfg.context.then_some(&cal));
            let (f, b) = batch_tensors(&batch, &Device::default());
            assert_eq!(m.forward(f, b).dims(), [1, 4], "{arch}");
        }
        assert_eq!(Arch::parse("CNN+BiGRU"), Some(Arch::CnnBiGru));
        for arch in Arch::ALL {
            let json = serde_json::to_string(&arch).unwrap();
            assert_eq!(
                json,
                format!("\"{}\"", arch.as_str()),
                "serde names are the CLI names"
            );
            assert_eq!(serde_json::from_str::<Arch>(&json).unwrap(), arch);
        }
        assert_eq!(Arch::parse("transformer"), None);
    }
}
