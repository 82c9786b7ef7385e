/**
 * The carrier port: what the fulfilment saga needs from a carrier, whoever it is. The shop ships with a
 * simulated carrier (src/contexts/shipping/carrier-adapter.ts); a real adapter (a parcel service's booking and tracking API)
 * implements the same three calls. The saga never waits on a carrier in memory: it books, stores the booking
 * with a durable timer (shipment_timers), and asks for the answer when the timer fires — after a restart too.
 */

/** What is handed over. There is no postal address in this shop yet: the customer is identified by email. */
export interface ShipmentRequest {
  shipment_id: string;
  order_id: string;
  recipient: { user_id: string; email: string };
  items: Array<{ product_id: string; name: string; quantity: number }>;
}

export interface CarrierBooking {
  /** The carrier's name, recorded on the shipment (ShipmentRequested.carrier). */
  carrier: string;
  /** The carrier's own number for this booking. */
  reference: string;
  /** When the carrier expects to have an answer: the saga's timer fires then. */
  answer_expected_at: string;
}

export type CarrierAnswer =
  { status: 'pending'; retry_at: string } | { status: 'dispatched'; tracking_number: string } | { status: 'failed'; reason: string };

export interface Carrier {
  readonly name: string;
  /**
   * Hands a shipment over. Idempotent per shipment_id: asking again (the worker crashed after booking) returns
   * the same booking, never a second parcel.
   */
  book(request: ShipmentRequest): Promise<CarrierBooking>;
  /** The carrier's answer for a booking, 'pending' until it has one. The same booking always gets the same answer. */
  answer(booking: Pick<CarrierBooking, 'reference'>): Promise<CarrierAnswer>;
  /** The shipment is no longer wanted (the order was cancelled or shipped by hand first). Best effort. */
  cancel(booking: Pick<CarrierBooking, 'reference'>): Promise<void>;
}
