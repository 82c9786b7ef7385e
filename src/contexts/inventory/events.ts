import { z } from 'zod';
import type { DataOf } from '../../platform/shared/contract.ts';
import { createdAt, defineEvent, f, fillMissing } from '../../platform/shared/contract.ts';
import type { DomainEvent } from '../../platform/shared/decider.ts';

/**
 * One inventory stream per product. It is NOT keyed by the bare product id: that key is the Product stream's,
 * and two aggregates sharing a DynamoDB partition key would share one version sequence (every stock change would
 * conflict with product edits, and each fold would see the other's events). Stock has its own stream so a hot
 * product's reservations never contend with catalogue edits.
 */
export const inventoryStreamId = (productId: string): string => `inventory-${productId}`;

/** Per AddStock command. */
export const MAX_STOCK_ADD = 1_000_000;
/** Per reservation (a cart line is at most 99, see carts). */
export const MAX_RESERVATION_QUANTITY = 1_000_000;

export const RELEASE_REASONS = ['cancelled', 'expired', 'shipment_failed'] as const;
export type ReleaseReason = (typeof RELEASE_REASONS)[number];

const stockFields = { product_id: f.text(), quantity: f.int() };
/** Timestamps absent in events of early releases are the envelope's created_at. */
const at = (key: string) => ({ fill: fillMissing({ [key]: createdAt }) });
export const StockAddedV = defineEvent('StockAdded', z.object({ ...stockFields, added_at: f.time() }), at('added_at'));
export const StockReservedV = defineEvent(
  'StockReserved',
  z.object({
    ...stockFields,
    reservation_id: f.text(),
    order_id: f.text(),
    /** When an unpaid order's hold lapses (default 15 min after checkout; the order carries the same instant). */
    expires_at: f.time(),
    reserved_at: f.time(),
  }),
  at('reserved_at'),
);
/** The reservation is confirmed: the quantity leaves the shelf (total and reserved both go down). */
export const StockDeductedV = defineEvent(
  'StockDeducted',
  z.object({ ...stockFields, reservation_id: f.text(), order_id: f.text(), deducted_at: f.time() }),
  at('deducted_at'),
);
/** The reservation is given back: the quantity is available again. */
export const StockReleasedV = defineEvent(
  'StockReleased',
  z.object({ ...stockFields, reservation_id: f.text(), order_id: f.text(), reason: f.oneOf(RELEASE_REASONS), released_at: f.time() }),
  at('released_at'),
);
/**
 * Why goods come back to the shelf after a payment deducted them: the customer cancelled the paid order before
 * dispatch, or the carrier failed to deliver it (the fulfilment saga's compensation).
 */
export const RETURN_REASONS = ['cancelled', 'shipment_failed'] as const;
export type ReturnReason = (typeof RETURN_REASONS)[number];
/**
 * Goods of a paid order are back in stock (total and available both go up). Not StockAdded: the log must say
 * that these units are the order's own coming back, not a delivery from a supplier.
 */
export const StockReturnedV = defineEvent(
  'StockReturned',
  z.object({ ...stockFields, order_id: f.text(), reason: f.oneOf(RETURN_REASONS), returned_at: f.time() }),
  at('returned_at'),
);
export const INVENTORY_CONTRACTS = [StockAddedV, StockReservedV, StockDeductedV, StockReleasedV, StockReturnedV] as const;
export type StockAddedData = DataOf<typeof StockAddedV>;
export type StockReservedData = DataOf<typeof StockReservedV>;
export type StockDeductedData = DataOf<typeof StockDeductedV>;
export type StockReleasedData = DataOf<typeof StockReleasedV>;
export type StockReturnedData = DataOf<typeof StockReturnedV>;
export type StockAdded = DomainEvent<'StockAdded', StockAddedData>;
export type StockReserved = DomainEvent<'StockReserved', StockReservedData>;
export type StockDeducted = DomainEvent<'StockDeducted', StockDeductedData>;
export type StockReleased = DomainEvent<'StockReleased', StockReleasedData>;
export type StockReturned = DomainEvent<'StockReturned', StockReturnedData>;
export type InventoryEvent = StockAdded | StockReserved | StockDeducted | StockReleased | StockReturned;

/** Event type names; `satisfies` makes the compiler reject a missing or extra name. */
export const InventoryEventTypes = {
  StockAdded: 'StockAdded',
  StockReserved: 'StockReserved',
  StockDeducted: 'StockDeducted',
  StockReleased: 'StockReleased',
  StockReturned: 'StockReturned',
} as const satisfies { [K in InventoryEvent['type']]: K };

export const isInventoryEventType = (type: string): type is InventoryEvent['type'] => Object.hasOwn(InventoryEventTypes, type);
