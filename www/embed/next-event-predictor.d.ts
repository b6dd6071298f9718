// Types for the <next-event-predictor> element module (the API types are in nextevent.d.ts).
import type { Outlook, ShopEvent, PredictionDetail, ChurnRiskDetail, ReadyDetail, ErrorDetail } from './nextevent.js';
export { Session, Predictor, modelInfo } from './nextevent.js';
export type { Outlook, ShopEvent, PredictionDetail, ChurnRiskDetail, ReadyDetail, ErrorDetail, EventType, SessionOptions, PredictorOptions, PredictOptions, ModelInfo } from './nextevent.js';

/** Loads the wasm module and the model once per page. */
export function ready(): Promise<void>;

export class NextEventPredictor extends HTMLElement {
  /** The underlying Session (null until `nextevent:ready`). */
  readonly session: import('./nextevent.js').Session | null;
  /** Observes one event; returns the outlook, or null (and fires `nextevent:error`) if rejected. */
  observe(event: ShopEvent): Outlook | null;
}

declare global {
  interface HTMLElementTagNameMap { 'next-event-predictor': NextEventPredictor }
  interface WindowEventMap {
    'nextevent:prediction': CustomEvent<PredictionDetail>;
    'nextevent:churn-risk': CustomEvent<ChurnRiskDetail>;
    'nextevent:ready': CustomEvent<ReadyDetail>;
    'nextevent:error': CustomEvent<ErrorDetail>;
  }
}
