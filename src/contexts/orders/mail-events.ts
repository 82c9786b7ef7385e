/**
 * The OrderPlaced an order mail is built from, decoded by its contract (src/contexts/orders/events.ts) plus the checks
 * only the notifier needs: a malformed event throws an EventDataError naming the event and field (the consumer
 * retries, then dead-letters it) instead of sending a mail that says "undefined".
 */
import { decodeEvent } from '../../kernel/contracts.ts';
import type { OrderPlacedData } from './events.ts';
import { ORDER_AGGREGATE_TYPE } from './events.ts';
import { EventDataError } from '../../platform/shared/contract.ts';
import type { EventEnvelope } from '../../platform/shared/envelope.ts';

// eslint-disable-next-line no-control-regex
const EMAIL = /^[^\s@\u0000-\u001f\u007f]+@[^\s@\u0000-\u001f\u007f]+$/;

/**
 * The OrderPlaced data of an envelope, checked. Every order mail needs it: it holds the recipient and the items,
 * which later events do not repeat.
 */
export const parseOrderPlaced = (event: EventEnvelope): OrderPlacedData => {
  if (event.aggregate_type !== ORDER_AGGREGATE_TYPE || event.event_type !== 'OrderPlaced') {
    throw new TypeError(`expected an Order OrderPlaced event, got ${event.aggregate_type} ${event.event_type} ${event.event_id}`);
  }
  const decoded = decodeEvent(event);
  if (decoded?.event_type !== 'OrderPlaced') throw new TypeError(`${event.event_id} did not decode as OrderPlaced`);
  const data = decoded.data;
  // The stream key and the payload must agree, or paid/shipped mail of this order would go to another customer.
  if (data.order_id !== event.aggregate_id)
    throw new EventDataError(event, [`data.order_id must be the aggregate id ${event.aggregate_id}`]);
  if (!EMAIL.test(data.user_email)) throw new EventDataError(event, ['data.user_email must be an email address']);
  return data;
};
