export * from './events.ts';
export { orderDecider, releaseReasonFor } from './decider.ts';
export type { OrderState, PlacedOrder } from './decider.ts';
export { decideCheckout } from './checkout.ts';
export type { OrderRow } from './projection.ts';
