/**
 * Every event contract of the shop, and the one registry the event store's read path and the consumers decode
 * with (src/platform/shared/contract.ts says how). The union types are what projections, the notifier and the worker
 * switch over.
 */
import { CART_CONTRACTS } from '../contexts/carts/events.ts';
import { CATALOG_CONTRACTS } from '../contexts/catalog/events.ts';
import { INVENTORY_CONTRACTS } from '../contexts/inventory/events.ts';
import { ORDER_CONTRACTS } from '../contexts/orders/events.ts';
import type { TypedEnvelope } from '../platform/shared/contract.ts';
import { createContractRegistry } from '../platform/shared/contract.ts';
import type { EventEnvelope } from '../platform/shared/envelope.ts';
import { SHIPMENT_CONTRACTS } from '../contexts/shipping/events.ts';
import { USER_CONTRACTS } from '../contexts/users/events.ts';

export const EVENT_CONTRACTS = [
  ...USER_CONTRACTS,
  ...CATALOG_CONTRACTS,
  ...INVENTORY_CONTRACTS,
  ...CART_CONTRACTS,
  ...ORDER_CONTRACTS,
  ...SHIPMENT_CONTRACTS,
] as const;

type Contract = (typeof EVENT_CONTRACTS)[number];

export const eventContracts = createContractRegistry<Contract>(EVENT_CONTRACTS);

/** Any event this release knows, decoded: `switch (event.event_type)` narrows `data`. */
export type KnownEvent = TypedEnvelope<Contract>;
export type KnownEventType = KnownEvent['event_type'];
/** The decoded event of one type. */
export type EventOf<T extends KnownEventType> = Extract<KnownEvent, { event_type: T }>;

/** Decodes once where an event enters a consumer: undefined for a type this release does not know. */
export const decodeEvent = (event: EventEnvelope): KnownEvent | undefined => eventContracts.decode(event);

/** The stored form with its data in the current shape (the event store's read path). */
export const upcastEvent = <E extends EventEnvelope>(event: E): E => eventContracts.upcast(event);
