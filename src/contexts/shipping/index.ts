export * from './events.ts';
export { shipmentDecider } from './decider.ts';
export type { ShipmentCommand, ShipmentState, ShipmentStatus } from './decider.ts';
export { decideCarrierAnswer, decideHandOver, decideManualShipment, decideOpenShipment, decidePaidCancellation } from './fulfilment.ts';
export type { AnswerOutcome, CarrierVerdict, FulfilmentWrites, HandOverOutcome, OpenOutcome } from './fulfilment.ts';
export type { Carrier, CarrierAnswer, CarrierBooking, ShipmentRequest } from './carrier.ts';
