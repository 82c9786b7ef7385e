export * from './events.ts';
export { orderDecider, canTransition, allowedTransitions, releaseReasonFor } from './decider.ts';
export type { OrderCommand, OrderState, OrderTransition, PlacedOrder, PlaceOrderItem } from './decider.ts';
export { decideCheckout } from './checkout.ts';
export type { CheckoutInput, CheckoutDecision } from './checkout.ts';
export type { OrderRow } from './projection.ts';
