// Types for the <next-event-predictor> element module (the API types are in nextevent.d.ts).
import type { Outlook, ShopEvent, PredictionDetail, ChurnRiskDetail, ReadyDetail, ErrorDetail } from './nextevent.js';
export { Session, Predictor, modelInfo } from './nextevent.js';
export type { Outlook, ShopEvent, PredictionDetail, ChurnRiskDetail, ReadyDetail, ErrorDetail, EventType, SessionOptions, PredictorOptions, PredictOptions, ModelInfo } from './nextevent.js';

/** Loads the wasm module and the model once per page on the page's thread, for `Session` and `Predictor` used directly (the element runs its model in a worker and does not need it). */
export function ready(): Promise<void>;

/** Where the element keeps the visit (sessionStorage by default). */
export const STORAGE_KEY: 'nextevent:visit:v1';
/** A stored visit whose last event is older than this (30 minutes) starts over. */
export const SESSION_GAP_MS: number;
/** The largest `model="…"` file the element fetches (8 MiB). */
export const MAX_MODEL_FETCH_BYTES: number;
/** Fresh workers started after traps before the element stops predicting for the page (3). */
export const MAX_RESTARTS: number;
/** A shop's item id as the numeric product id: whole numbers as they are, others 2^52 + FNV-1a-64 mod 2^52. */
export function productIdOf(itemId: string | number): number;

/** A kept event with what the shop's analytics said about it. */
export type VisitEvent = ShopEvent & { item_id?: string; quantity?: number; source?: 'dataLayer' | 'segment'; transaction?: string };

export interface VisitStats {
  observed: number;
  queued: number;
  /** Event names that are not shopper events (page_view, view_item_list, …), by name. */
  ignored: Record<string, number>;
  rejected: number;
  /** Purchases seen again with a known transaction id (a reloaded confirmation page). */
  duplicates: number;
  /** Events restored from storage when the page loaded. */
  restored: number;
  /** Whether a stored visit was older than the session gap and started over. */
  expired: boolean;
  /** Where the model runs: in a module worker, or on the page's thread where module workers are unavailable (null until loaded). */
  engine: 'worker' | 'main-thread' | null;
  /** Fresh workers started after a trap. */
  restarts: number;
  /** Segment track calls made while the element was out of the document (not observed; dataLayer entries pushed meanwhile are read when it is back). */
  detached: number;
}

/** The element's session once every event observed so far has been predicted. */
export interface VisitState {
  history: VisitEvent[];
  observed: number;
  atRisk: boolean;
  stage: 'browsing' | 'cart' | 'cart_emptied' | 'purchased';
  threshold: number | null;
  engine: 'worker' | 'main-thread' | null;
  /** The model's name (from its ONNX metadata). */
  model: string | null;
}

/**
 * `<next-event-predictor source="dataLayer segment clicks" storage="session|local|none"
 * consent="pending|granted|denied" loading="lazy|eager" model="/models/shop.onnx"
 * threshold="0.05" for="#selector">`.
 */
export class NextEventPredictor extends HTMLElement {
  /** `loading` until `nextevent:ready`, then `ready`; `stopped` after too many traps. */
  readonly readyState: 'loading' | 'ready' | 'stopped';
  /** The kept events of this visit (across pages), oldest first, as of the last prediction. */
  readonly history: VisitEvent[];
  readonly stats: VisitStats;
  /** The session once every event observed so far has been predicted (null until `nextevent:ready`). Replaces 0.1's synchronous `session`. */
  sessionState(): Promise<VisitState | null>;
  /** Observes one event: resolves to its outlook once predicted (queued events resolve after the model has loaded), or null if it was rejected (`nextevent:error` says why), dropped or nextevent stopped. Never rejects. */
  observe(event: ShopEvent): Promise<Outlook | null>;
  /** Forgets the visit: the session, the queue and the stored entry. */
  clear(): void;
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
