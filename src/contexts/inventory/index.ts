export * from './events.ts';
export { inventoryDecider, findReservationByOrder, findClosedByOrder, insufficientStock, CLOSED_RESERVATION_MEMORY } from './decider.ts';
export type { InventoryCommand, InventoryState, Reservation, ClosedReservation } from './decider.ts';
export { toSnapshot, fromSnapshot, INVENTORY_SNAPSHOT_SCHEMA_VERSION } from './snapshot.ts';
export type { InventorySnapshot } from './snapshot.ts';
