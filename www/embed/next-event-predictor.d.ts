// Types for the <next-event-predictor> element module (the API types are in nextevent.d.ts).
import type { Outlook, ShopEvent, PredictionDetail, ChurnRiskDetail, ReadyDetail, ErrorDetail } from './nextevent.js';
export { Session, Predictor, modelInfo } from './nextevent.js';
export type { Outlook, ShopEvent, PredictionDetail, ChurnRiskDetail, ReadyDetail, ErrorDetail, EventType, SessionOptions, PredictorOptions, PredictOptions, ModelInfo } from './nextevent.js';

/** Loads the wasm module and the model once per page. */
export function ready(): Promise<void>;

/** Where the element keeps the visit (sessionStorage by default). */
export const STORAGE_KEY: 'nextevent:visit:v1';
/** A stored visit whose last event is older than this (30 minutes) starts over. */
export const SESSION_GAP_MS: number;
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
}

export class NextEventPredictor extends HTMLElement {
  /** The underlying Session (null until `nextevent:ready`). */
  readonly session: import('./nextevent.js').Session | null;
  /** The kept events of this visit (across pages), oldest first. */
  readonly history: VisitEvent[];
  readonly stats: VisitStats;
  /** Observes one event: the outlook once ready (null and `nextevent:error` if rejected); before that, queued and null. */
  observe(event: ShopEvent): Outlook | null;
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
