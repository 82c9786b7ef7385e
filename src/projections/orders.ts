import type { Queryable } from '../readmodel/db.ts';
import type { EventEnvelope } from '../shared/envelope.ts';
import { fieldsOf } from './fields.ts';

export const name = 'orders';
export const eventTypes = [
  'OrderPlaced',
  'OrderPaid',
  'OrderShipped',
  'OrderDelivered',
  'OrderCancelled',
  'OrderShipmentFailed',
  'OrderPaymentRefunded',
] as const;

export interface OrderLine {
  product_id: string;
  name: string;
  price: number;
  quantity: number;
  subtotal: number;
}

export const orderLines = (event: EventEnvelope): OrderLine[] =>
  fieldsOf(event)
    .list('items')
    .map((item) => {
      const f = fieldsOf(event, item);
      return { product_id: f.str('product_id'), name: f.str('name'), price: f.int('price'), quantity: f.int('quantity'), subtotal: f.int('subtotal') };
    });

/**
 * Status transitions are applied as the events say, without re-checking them: the decider already refused
 * illegal ones, and a read model that second-guesses the write side would silently diverge from it.
 */
const transition = (db: Queryable, event: EventEnvelope, set: string, values: unknown[]) =>
  db.query(
    `UPDATE read_orders SET ${set}, updated_at = $2, version = $3 WHERE order_id = $1 AND version < $3`,
    [fieldsOf(event).str('order_id'), event.created_at, event.version, ...values],
  );

/** read_orders. */
export async function apply(db: Queryable, event: EventEnvelope): Promise<void> {
  const f = fieldsOf(event);
  switch (event.event_type) {
    case 'OrderPlaced':
      await db.query(
        `INSERT INTO read_orders (order_id, user_id, user_email, items, total, status, expires_at, placed_at, updated_at, version)
         VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8, $9)
         ON CONFLICT (order_id) DO NOTHING`,
        [
          f.str('order_id'),
          f.str('user_id'),
          f.str('user_email'),
          JSON.stringify(orderLines(event)),
          f.int('total'),
          f.optTime('expires_at'),
          f.time('placed_at'),
          event.created_at,
          event.version,
        ],
      );
      return;
    case 'OrderPaid':
      await transition(db, event, `status = 'paid', paid_at = $4`, [f.time('paid_at')]);
      return;
    case 'OrderShipped':
      await transition(db, event, `status = 'shipped', tracking_number = $4, shipped_at = $5`, [f.str('tracking_number'), f.time('shipped_at')]);
      return;
    case 'OrderDelivered':
      await transition(db, event, `status = 'delivered', delivered_at = $4`, [f.time('delivered_at')]);
      return;
    case 'OrderCancelled':
      await transition(db, event, `status = 'cancelled', reason = $4, cancelled_by = $5, cancelled_at = $6`, [
        f.optStr('reason'),
        f.optStr('cancelled_by'),
        f.time('cancelled_at'),
      ]);
      return;
    case 'OrderShipmentFailed':
      await transition(db, event, `status = 'shipment_failed', reason = $4, shipment_failed_at = $5`, [f.optStr('reason'), f.time('failed_at')]);
      return;
    case 'OrderPaymentRefunded':
      // Not a status change: the status change that came with it (cancelled, shipment_failed) already took the
      // order out of revenue, here and in the marketing tables.
      await transition(db, event, `refunded_amount = $4, refunded_at = $5`, [f.int('amount'), f.time('refunded_at')]);
      return;
  }
}
