export * from './events.ts';
export { inventoryDecider, findReservationByOrder, insufficientStock } from './decider.ts';
export type { InventoryCommand, InventoryState } from './decider.ts';
export { toSnapshot, fromSnapshot, INVENTORY_SNAPSHOT_SCHEMA_VERSION } from './snapshot.ts';
