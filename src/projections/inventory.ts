import type { Queryable } from '../readmodel/db.ts';
import type { EventEnvelope } from '../shared/envelope.ts';
import { fieldsOf } from './fields.ts';

export const name = 'inventory';
export const eventTypes = ['StockAdded', 'StockReserved', 'StockDeducted', 'StockReleased', 'StockReturned'] as const;

export interface Reservation {
  reservation_id: string;
  order_id: string;
  quantity: number;
  expires_at: string;
}

export interface InventoryRow {
  product_id: string;
  total_quantity: number;
  reservations: Reservation[];
}

export const emptyInventory = (productId: string): InventoryRow => ({ product_id: productId, total_quantity: 0, reservations: [] });

export const reservedQuantity = (row: InventoryRow): number => row.reservations.reduce((sum, r) => sum + r.quantity, 0);

/**
 * Pure: the inventory row after one event. Reservations are keyed by reservation_id, so replaying a reservation
 * cannot hold stock twice, and a deduction or release removes the reservation whatever quantity it names.
 * A deduction lowers the total by the event's quantity (the stock physically left the warehouse); a return (a
 * paid order cancelled or its shipment failed) raises it again.
 */
export function evolveInventory(row: InventoryRow, event: EventEnvelope): InventoryRow {
  const f = fieldsOf(event);
  const without = (id: string) => row.reservations.filter((r) => r.reservation_id !== id);
  switch (event.event_type) {
    case 'StockAdded':
    case 'StockReturned':
      return { ...row, total_quantity: row.total_quantity + f.int('quantity') };
    case 'StockReserved': {
      const reservation: Reservation = {
        reservation_id: f.str('reservation_id'),
        order_id: f.str('order_id'),
        quantity: f.int('quantity'),
        expires_at: f.time('expires_at'),
      };
      return { ...row, reservations: [...without(reservation.reservation_id), reservation] };
    }
    case 'StockDeducted':
      return { ...row, total_quantity: row.total_quantity - f.int('quantity'), reservations: without(f.str('reservation_id')) };
    case 'StockReleased':
      return { ...row, reservations: without(f.str('reservation_id')) };
    default:
      return row;
  }
}

/** read_inventory, keyed by product id (data.product_id, whatever the stream id is). */
export async function apply(db: Queryable, event: EventEnvelope): Promise<void> {
  const productId = fieldsOf(event).str('product_id');
  const { rows } = await db.query<InventoryRow>(
    'SELECT product_id, total_quantity, reservations FROM read_inventory WHERE product_id = $1',
    [productId],
  );
  const next = evolveInventory(rows[0] ?? emptyInventory(productId), event);
  await db.query(
    `INSERT INTO read_inventory (product_id, total_quantity, reserved_quantity, reservations, updated_at, version)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (product_id) DO UPDATE
       SET total_quantity = EXCLUDED.total_quantity, reserved_quantity = EXCLUDED.reserved_quantity,
           reservations = EXCLUDED.reservations, updated_at = EXCLUDED.updated_at, version = EXCLUDED.version
       WHERE read_inventory.version < EXCLUDED.version`,
    [productId, next.total_quantity, reservedQuantity(next), JSON.stringify(next.reservations), event.created_at, event.version],
  );
}
