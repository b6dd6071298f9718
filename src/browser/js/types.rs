//! The JS API's TypeScript types, written once: wasm-bindgen emits them into `nextevent.d.ts`,
//! and the element's `next-event-predictor.d.ts` only imports them.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** The four kinds of shopper event, as in the Kaggle dataset. */
export type EventType = "view" | "cart" | "remove_from_cart" | "purchase";
/** One shopper event. `event_time`: ISO 8601 string, `2019-10-01 00:00:00 UTC`, epoch ms or a Date. */
export interface ShopEvent {
  event_type: EventType;
  event_time: string | number | Date;
  /** A whole number (or a string of digits). */
  product_id: number | string;
  /** Finite, 0 to 1,000,000. */
  price: number;
  brand?: string | null;
  category_code?: string | null;
}
/** A prediction and what a shop acts on. */
export interface Outlook {
  probabilities: { view: number; cart: number; remove_from_cart: number; purchase: number };
  next: EventType;
  confidence: number;
  /** P(purchase) < threshold. */
  churnRisk: boolean;
  threshold: number;
  favouriteBrand: string | null;
  /** Per event of the last 16: change in P(purchase) when it is left out (when asked for). */
  influence?: number[];
}
export interface PredictOptions { influence?: boolean }
/** The model's input tensors, as `Predictor.encode` makes them (see the model's ONNX inputs). */
export interface EncodedBatch {
  /** Number of windows. */
  n: number;
  /** `features` input, f32 [n, 16, 16], row-major. */
  features: Float32Array;
  /** `brand_bucket` input, i64 [n, 16]. */
  brands: BigInt64Array;
}
export interface PredictorOptions { threshold?: number }
/** `target`: where `nextevent:*` events are dispatched (default `window`; `null`: none). */
export interface SessionOptions { threshold?: number; target?: EventTarget | null }
/** `detail` of `nextevent:prediction`, fired after every observed event. */
export interface PredictionDetail extends Outlook { observed: number; event: ShopEvent }
/** `detail` of `nextevent:churn-risk`, fired when P(purchase) falls below the threshold (once per crossing). */
export interface ChurnRiskDetail { purchase: number; threshold: number; favouriteBrand: string | null; outlook: Outlook }
/** `detail` of the element's `nextevent:ready`. */
export interface ReadyDetail { threshold: number }
/** `detail` of the element's `nextevent:error`: why an event (or the model) was rejected. */
export interface ErrorDetail { message: string }
export interface ModelInfo {
  name: string; architecture: string; trained_on: string; weights: string; parameters: number;
  test_metrics: [string, number][]; baselines: [string, number, number][]; churn_threshold: number;
  created: string; size_bytes: number;
}
"#;
