import type { KnownEvent } from '../../kernel/contracts.ts';
import type { TableProjection } from '../../kernel/projection.ts';

export interface Reservation {
  reservation_id: string;
  order_id: string;
  quantity: number;
  expires_at: string;
}

/** read_inventory, keyed by product id (data.product_id, whatever the stream id is). */
export interface InventoryRow {
  product_id: string;
  total_quantity: number;
  /** Always the sum of reservations[].quantity. */
  reserved_quantity: number;
  reservations: Reservation[];
  updated_at: string;
  version: number;
}

export const emptyInventory = (productId: string): InventoryRow => ({
  product_id: productId,
  total_quantity: 0,
  reserved_quantity: 0,
  reservations: [],
  updated_at: '',
  version: 0,
});

const withReservations = (row: InventoryRow, reservations: Reservation[], totalDelta = 0): InventoryRow => ({
  ...row,
  total_quantity: row.total_quantity + totalDelta,
  reservations,
  reserved_quantity: reservations.reduce((sum, r) => sum + r.quantity, 0),
});

function productOf(e: KnownEvent): string | undefined {
  switch (e.event_type) {
    case 'StockAdded':
    case 'StockReserved':
    case 'StockDeducted':
    case 'StockReleased':
    case 'StockReturned':
      return e.data.product_id;
    default:
      return undefined;
  }
}

/**
 * Reservations are keyed by reservation_id, so replaying a reservation cannot hold stock twice, and a deduction
 * or release removes the reservation whatever quantity it names. A deduction lowers the total by the event's
 * quantity (the stock physically left the warehouse); a return (a paid order cancelled or its shipment failed)
 * raises it again.
 */
export const inventory: TableProjection<InventoryRow> = {
  name: 'inventory',
  table: 'read_inventory',
  key: 'product_id',
  columns: ['product_id', 'total_quantity', 'reserved_quantity', 'reservations', 'updated_at', 'version'],
  eventTypes: ['StockAdded', 'StockReserved', 'StockDeducted', 'StockReleased', 'StockReturned'],
  keyOf: productOf,
  evolve(current, e) {
    const productId = productOf(e);
    if (productId === undefined) return current;
    const row = current ?? emptyInventory(productId);
    const without = (id: string) => row.reservations.filter((r) => r.reservation_id !== id);
    const stamped = (next: InventoryRow): InventoryRow => ({ ...next, updated_at: e.created_at, version: e.version });
    switch (e.event_type) {
      case 'StockAdded':
      case 'StockReturned':
        return stamped(withReservations(row, row.reservations, e.data.quantity));
      case 'StockReserved': {
        const { reservation_id, order_id, quantity, expires_at } = e.data;
        return stamped(withReservations(row, [...without(reservation_id), { reservation_id, order_id, quantity, expires_at }]));
      }
      case 'StockDeducted':
        return stamped(withReservations(row, without(e.data.reservation_id), -e.data.quantity));
      case 'StockReleased':
        return stamped(withReservations(row, without(e.data.reservation_id)));
      default:
        return current;
    }
  },
};
