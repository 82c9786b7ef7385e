export * from './events.ts';
export { shipmentDecider } from './decider.ts';
export type { ShipmentState } from './decider.ts';
export { decideCarrierAnswer, decideHandOver, decideManualShipment, decideOpenShipment, decidePaidCancellation } from './fulfilment.ts';
export type { AnswerOutcome, CarrierVerdict, FulfilmentWrites, HandOverOutcome, OpenOutcome } from './fulfilment.ts';
export type { CarrierBooking, ShipmentRequest } from './carrier.ts';
