/**
 * The Order events the notifier reads, as it reads them. Events arrive as JSON from Kafka and may come from an
 * older or newer producer, so every field a mail uses is checked here: a malformed event throws a TypeError
 * naming the event and field (the consumer retries, then dead-letters it) instead of sending a mail that says
 * "undefined". Fields the notifier does not use are ignored, so producers may add fields freely. The shapes
 * are the orders context's (src/orders/events.ts): if they change there, this file stops compiling.
 */
import type { OrderItem, OrderPlacedData } from '../orders/events.ts';
import { ORDER_AGGREGATE_TYPE } from '../orders/events.ts';
import type { EventEnvelope } from '../shared/envelope.ts';

const fail = (event: EventEnvelope, field: string, what: string): never => {
  throw new TypeError(`${event.event_type} ${event.event_id}: data.${field} must be ${what}`);
};

/** Readers take the event (for the error message), the raw value and its path inside `data`. */
export const readString = (event: EventEnvelope, value: unknown, field: string): string =>
  typeof value === 'string' && value.length > 0 ? value : fail(event, field, 'a non-empty string');

export const readInt = (event: EventEnvelope, value: unknown, field: string): number =>
  typeof value === 'number' && Number.isSafeInteger(value) ? value : fail(event, field, 'an integer');

export const readInstant = (event: EventEnvelope, value: unknown, field: string): string => {
  const text = readString(event, value, field);
  return Number.isNaN(Date.parse(text)) ? fail(event, field, 'an ISO-8601 date-time') : text;
};

// eslint-disable-next-line no-control-regex
const EMAIL = /^[^\s@\u0000-\u001f\u007f]+@[^\s@\u0000-\u001f\u007f]+$/;

const readItem = (event: EventEnvelope, raw: unknown, i: number): OrderItem => {
  const at = (name: string) => `items[${i}].${name}`;
  if (typeof raw !== 'object' || raw === null) return fail(event, `items[${i}]`, 'an object');
  const item = raw as Record<string, unknown>;
  const quantity = readInt(event, item.quantity, at('quantity'));
  if (quantity < 1) fail(event, at('quantity'), 'at least 1');
  return {
    product_id: readString(event, item.product_id, at('product_id')),
    name: readString(event, item.name, at('name')),
    price: readInt(event, item.price, at('price')),
    quantity,
    subtotal: readInt(event, item.subtotal, at('subtotal')),
  };
};

/**
 * The OrderPlaced data of an envelope, checked. Every order mail needs it: it holds the recipient and the items,
 * which later events do not repeat.
 */
export const parseOrderPlaced = (event: EventEnvelope): OrderPlacedData => {
  if (event.aggregate_type !== ORDER_AGGREGATE_TYPE || event.event_type !== 'OrderPlaced') {
    throw new TypeError(`expected an Order OrderPlaced event, got ${event.aggregate_type} ${event.event_type} ${event.event_id}`);
  }
  const data = event.data;
  const order_id = readString(event, data.order_id, 'order_id');
  // The stream key and the payload must agree, or paid/shipped mail of this order would go to another customer.
  if (order_id !== event.aggregate_id) fail(event, 'order_id', `the aggregate id ${event.aggregate_id}`);
  const user_email = readString(event, data.user_email, 'user_email');
  if (!EMAIL.test(user_email)) fail(event, 'user_email', 'an email address');
  const items = data.items;
  if (!Array.isArray(items) || items.length === 0) fail(event, 'items', 'a non-empty array');
  return {
    order_id,
    user_id: readString(event, data.user_id, 'user_id'),
    user_email,
    items: (items as unknown[]).map((item, i) => readItem(event, item, i)),
    total: readInt(event, data.total, 'total'),
    expires_at: readInstant(event, data.expires_at, 'expires_at'),
    placed_at: readInstant(event, data.placed_at, 'placed_at'),
  };
};
