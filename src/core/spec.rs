//! The feature spec: what the encoder produces, written into every model's ONNX metadata
//! and compared field by field when a model is loaded.

use serde::{Deserialize, Serialize};

use crate::core::event::EventKind;

/// Key of the spec JSON in the ONNX file's `metadata_props`.
pub const SPEC_KEY: &str = "nextevent.spec";
/// Key of the model card summary JSON in the ONNX file's `metadata_props`.
pub const INFO_KEY: &str = "nextevent.info";

/// Window length T: the last T events are encoded, shorter sequences are left-padded.
pub const WINDOW: usize = 16;
/// Hash buckets for brands; bucket 0 means "padding or no brand".
pub const BRAND_BUCKETS: usize = 128;
/// Seed of the brand hash.
pub const BRAND_HASH_SEED: u64 = 0x6e65_7874_6576_656e; // "nextevent"
/// Version of the encoding; bump it whenever the encoder's output changes. Version 2 added
/// the run, count, same-product, carted-before and same-kind-gap features the real sample
/// says matter (they beat Markov chains on its held-out December).
pub const SPEC_VERSION: u32 = 2;

/// Names of the per-event features, in tensor order.
pub const FEATURES: [&str; 21] = [
    "is_event",
    "kind=view",
    "kind=cart",
    "kind=remove_from_cart",
    "kind=purchase",
    "log1p_price",
    "price_over_window_mean",
    "hour_sin",
    "hour_cos",
    "weekday_sin",
    "weekday_cos",
    "log1p_seconds_since_previous",
    "product_seen_in_window",
    "brand_seen_in_window",
    "has_brand",
    "log1p_seconds_since_window_start",
    "log1p_run_length",
    "log1p_count_of_kind",
    "same_product_as_previous",
    "product_carted_before",
    "log1p_seconds_since_same_kind",
];
/// Number of per-event float features F.
pub const N_FEATURES: usize = FEATURES.len();

/// The encoding contract between a model and the code that feeds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureSpec {
    pub version: u32,
    pub window: usize,
    pub features: Vec<String>,
    pub brand_buckets: usize,
    pub brand_hash_seed: u64,
    pub brand_hash: String,
    pub padding: String,
    pub classes: Vec<String>,
    pub inputs: Vec<String>,
    pub output: String,
    /// External context (promotion days, holidays) when the model was trained with it; the
    /// calendar travels here so every runtime encodes the same features. Absent by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<ContextSpec>,
}

/// The context part of a spec: feature names and the calendar they are computed from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContextSpec {
    pub features: Vec<String>,
    pub calendar: crate::core::context::Calendar,
}

impl FeatureSpec {
    /// The spec this build's encoder implements.
    pub fn current() -> Self {
        FeatureSpec {
            version: SPEC_VERSION,
            window: WINDOW,
            features: FEATURES.iter().map(|s| s.to_string()).collect(),
            brand_buckets: BRAND_BUCKETS,
            brand_hash_seed: BRAND_HASH_SEED,
            brand_hash: "fnv1a64(seed, lowercase(trim(brand))) % (buckets-1) + 1".into(),
            padding: "left, zeros, is_event=0, brand bucket 0".into(),
            classes: EventKind::ALL
                .iter()
                .map(|k| k.as_str().to_string())
                .collect(),
            inputs: vec![
                format!("features: f32 [N, {WINDOW}, {N_FEATURES}]"),
                format!("brand_bucket: i64 [N, {WINDOW}]"),
            ],
            output: "probabilities: f32 [N, 4] (calibrated softmax, class order as `classes`)"
                .into(),
            context: None,
        }
    }

    /// The spec of a model trained with the context features of `calendar`: a third input
    /// `context: f32 [N, T, 3]`.
    pub fn with_context(calendar: crate::core::context::Calendar) -> Self {
        let mut s = Self::current();
        s.inputs.push(format!(
            "context: f32 [N, {WINDOW}, {}]",
            crate::core::context::N_CONTEXT
        ));
        s.context = Some(ContextSpec {
            features: crate::core::context::CONTEXT_FEATURES
                .iter()
                .map(|f| f.to_string())
                .collect(),
            calendar,
        });
        s
    }

    /// What this build expects of a model with `model`'s spec: the current spec, with the
    /// model's calendar when it was trained with context.
    pub fn expected_for(model: &FeatureSpec) -> Self {
        match &model.context {
            Some(c) => Self::with_context(c.calendar.clone()),
            None => Self::current(),
        }
    }

    /// Every field that differs between `self` (this build) and `model`, in words.
    pub fn differences(&self, model: &FeatureSpec) -> Vec<String> {
        let mut d = Vec::new();
        macro_rules! cmp {
            ($f:ident) => {
                if self.$f != model.$f {
                    d.push(format!(
                        "{}: model has {:?}, this build has {:?}",
                        stringify!($f),
                        model.$f,
                        self.$f
                    ));
                }
            };
        }
        cmp!(version);
        cmp!(window);
        if self.features != model.features {
            let n = self.features.len().max(model.features.len());
            for i in 0..n {
                let (a, b) = (self.features.get(i), model.features.get(i));
                if a != b {
                    d.push(format!(
                        "feature {i}: model has {:?}, this build has {:?}",
                        b, a
                    ));
                }
            }
        }
        cmp!(brand_buckets);
        cmp!(brand_hash_seed);
        cmp!(brand_hash);
        cmp!(padding);
        cmp!(classes);
        cmp!(inputs);
        cmp!(output);
        if self.context.as_ref().map(|c| &c.features) != model.context.as_ref().map(|c| &c.features)
        {
            d.push(format!(
                "context features: model has {:?}, this build has {:?}",
                model.context.as_ref().map(|c| &c.features),
                self.context.as_ref().map(|c| &c.features)
            ));
        }
        d
    }
}

/// What a model says about itself (written at export, shown in the page's model panel).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    pub name: String,
    pub architecture: String,
    pub trained_on: String,
    pub weights: String,
    pub parameters: usize,
    /// Held-out test figures: name → value (accuracy, macro_f1, …).
    pub test_metrics: Vec<(String, f64)>,
    /// Baselines on the same test windows: name → (accuracy, macro_f1).
    pub baselines: Vec<(String, f64, f64)>,
    /// Default churn threshold on P(purchase), chosen on validation data.
    pub churn_threshold: f32,
    pub created: String,
    /// The model's heads: `next_event`, and `conversion` for a model with the second output
    /// (the predictor detects the head from the graph's outputs; this says it in words).
    #[serde(default)]
    pub heads: Vec<String>,
    /// Default churn thresholds on P(a purchase later in this visit), per visit stage,
    /// chosen on validation data (models with the conversion head).
    #[serde(default)]
    pub stage_thresholds: Option<crate::core::visit::StageThresholds>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_name_each_field() {
        let a = FeatureSpec::current();
        assert!(a.differences(&a.clone()).is_empty());
        let mut b = a.clone();
        b.window = 30;
        b.features.swap(1, 2);
        let d = a.differences(&b).join("; ");
        assert!(d.contains("window: model has 30, this build has 16"), "{d}");
        assert!(
            d.contains("feature 1: model has Some(\"kind=cart\")"),
            "{d}"
        );
        let json = serde_json::to_string(&a).unwrap();
        assert!(
            !json.contains("context"),
            "specs without context keep their old JSON"
        );
        assert_eq!(serde_json::from_str::<FeatureSpec>(&json).unwrap(), a);

        let cal = crate::core::context::Calendar::kaggle_period_example();
        let c = FeatureSpec::with_context(cal);
        assert_eq!(FeatureSpec::expected_for(&c), c);
        assert_eq!(FeatureSpec::expected_for(&a), a);
        assert!(a.differences(&c).join("; ").contains("context"));
        let mut odd = c.clone();
        odd.context.as_mut().unwrap().features.pop();
        assert!(c.differences(&odd).join("; ").contains("context features"));
    }
}
