export * from './events.ts';
export { shipmentDecider } from './decider.ts';
export type { ShipmentCommand, ShipmentState, ShipmentStatus } from './decider.ts';
