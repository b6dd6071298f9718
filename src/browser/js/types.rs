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
/** Where a visit stands: nothing carted yet; something in the cart; everything carted removed again; bought. */
export type Stage = "browsing" | "cart" | "cart_emptied" | "purchased";
/** What churn risk compares: P(a purchase later in this visit), or (a model without the conversion head) P(next event is a purchase). */
export type RiskBasis = "conversion" | "next_purchase";
/** A prediction and what a shop acts on. */
export interface Outlook {
  probabilities: { view: number; cart: number; remove_from_cart: number; purchase: number };
  next: EventType;
  confidence: number;
  /** P(a purchase later in this visit); null for a model without the conversion head. */
  conversion: number | null;
  stage: Stage;
  /** `conversion` below the stage's threshold (never once purchased); with `riskBasis` "next_purchase", P(purchase next) below it. */
  churnRisk: boolean;
  /** The threshold compared with; null once the visit purchased. */
  threshold: number | null;
  riskBasis: RiskBasis;
  favouriteBrand: string | null;
  /** Per event of the last 16: change in P(purchase) when it is left out (when asked for). */
  influence?: number[];
}
export interface PredictOptions { influence?: boolean }
/** The model's input tensors, as `Predictor.encode` makes them (see the model's ONNX inputs). */
export interface EncodedBatch {
  /** Number of windows. */
  n: number;
  /** `features` input, f32 [n, 16, 21], row-major. */
  features: Float32Array;
  /** `brand_bucket` input, i64 [n, 16]. */
  brands: BigInt64Array;
}
/** `threshold`: one churn threshold on `conversion` for every stage (default: the model's per-stage thresholds). `model`: the bytes of an `.onnx` exported by nextevent-train (default: the embedded model); refused with the reason when its size, spec or graph is not one nextevent wrote. */
export interface PredictorOptions { threshold?: number | null; model?: Uint8Array | ArrayBuffer | null }
/** As for `Predictor`, and `target`: where `nextevent:*` events are dispatched (default `window`; `null`: none). */
export interface SessionOptions { threshold?: number | null; model?: Uint8Array | ArrayBuffer | null; target?: EventTarget | null }
/** `detail` of `nextevent:prediction`, fired after every observed event. */
export interface PredictionDetail extends Outlook { observed: number; event: ShopEvent }
/** `detail` of `nextevent:churn-risk`, fired when the visit falls below its threshold (once per crossing; it re-arms when it rises above again). */
export interface ChurnRiskDetail { conversion: number | null; purchase: number; threshold: number | null; stage: Stage; riskBasis: RiskBasis; favouriteBrand: string | null; outlook: Outlook }
/** `detail` of the element's `nextevent:ready`. */
export interface ReadyDetail {
  threshold: number | null;
  /** Events of this visit restored from storage (0: a new visit). */
  restored: number;
  /** Whether a stored visit was older than the 30-minute gap and started over. */
  expired: boolean;
  atRisk: boolean;
  stage: 'browsing' | 'cart' | 'cart_emptied' | 'purchased';
  /** Where the model runs: a module worker, or the page's thread where module workers are unavailable. */
  engine: 'worker' | 'main-thread';
  /** The model's name: the embedded one's, or that of the element's `model="…"` file. */
  model: string | null;
}
/** `detail` of the element's `nextevent:error`: why an event, a push, the stored visit or the model was rejected. */
export interface ErrorDetail {
  message: string;
  /** What was rejected: an observed event, a source's push or call, the stored visit, … */
  source: 'event' | 'dataLayer' | 'segment' | 'clicks' | 'storage' | 'queue' | 'attribute' | 'model' | 'worker';
}
export interface ModelInfo {
  name: string; architecture: string; trained_on: string; weights: string; parameters: number;
  test_metrics: [string, number][]; baselines: [string, number, number][]; churn_threshold: number;
  created: string; size_bytes: number; heads: string[];
  stage_thresholds: { browsing: number; cart: number; cart_emptied: number } | null;
}
"#;
