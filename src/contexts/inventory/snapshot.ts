/**
 * Snapshots of the Inventory state, so a popular product's long stream does not make its commands slower:
 * the event store keeps the latest snapshot every N events and commands load it plus the tail after it.
 * The state is already JSON-safe; the derived quantities are left out and recomputed, and `fromSnapshot`
 * checks the shape instead of trusting storage. It returns undefined for anything it does not recognise (a
 * corrupted or foreign item): the caller then replays the stream from the start, which is always correct —
 * no snapshot can be turned into a right state by guessing, and failing the command would be worse.
 */
import type { ClosedReservation, InventoryState, Reservation } from './decider.ts';
import { CLOSED_RESERVATION_MEMORY } from './decider.ts';

/** Goes in the store's Snapshot.schema_version; bump it whenever InventorySnapshot changes shape. */
export const INVENTORY_SNAPSHOT_SCHEMA_VERSION = 1;

export type InventorySnapshot = {
  product_id: string | null;
  total_quantity: number;
  reservations: Reservation[];
  recently_closed: ClosedReservation[];
};

export const toSnapshot = (state: InventoryState): InventorySnapshot => ({
  product_id: state.product_id,
  total_quantity: state.total_quantity,
  reservations: state.reservations.map((r) => ({ ...r })),
  recently_closed: state.recently_closed.map((r) => ({ ...r })),
});

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

const asReservation = (v: unknown): Reservation | undefined =>
  isObject(v) && isText(v.reservation_id) && isText(v.order_id) && isCount(v.quantity) && isText(v.expires_at) && isText(v.reserved_at)
    ? { reservation_id: v.reservation_id, order_id: v.order_id, quantity: v.quantity, expires_at: v.expires_at, reserved_at: v.reserved_at }
    : undefined;

const asClosed = (v: unknown): ClosedReservation | undefined =>
  isObject(v) &&
  isText(v.reservation_id) &&
  isText(v.order_id) &&
  isCount(v.quantity) &&
  (v.outcome === 'deducted' || v.outcome === 'released')
    ? { reservation_id: v.reservation_id, order_id: v.order_id, quantity: v.quantity, outcome: v.outcome }
    : undefined;

const all = <T>(items: unknown, as: (v: unknown) => T | undefined): T[] | undefined => {
  if (!Array.isArray(items)) return undefined;
  const out: T[] = [];
  for (const item of items) {
    const t = as(item);
    if (t === undefined) return undefined;
    out.push(t);
  }
  return out;
};

export const fromSnapshot = (json: unknown): InventoryState | undefined => {
  if (!isObject(json)) return undefined;
  const { product_id, total_quantity } = json;
  if (!(product_id === null || isText(product_id)) || !isCount(total_quantity)) return undefined;
  const reservations = all(json.reservations, asReservation);
  const closed = all(json.recently_closed, asClosed);
  if (!reservations || !closed) return undefined;
  const reserved_quantity = reservations.reduce((sum, r) => sum + r.quantity, 0);
  if (reserved_quantity > total_quantity) return undefined;
  return {
    product_id,
    total_quantity,
    reserved_quantity,
    available_quantity: total_quantity - reserved_quantity,
    reservations,
    recently_closed: closed.slice(-CLOSED_RESERVATION_MEMORY),
  };
};
