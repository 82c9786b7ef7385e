import type { Queryable } from '../../platform/readmodel/db.ts';
import type { Page } from '../../platform/readmodel/paging.ts';
import { decodeCursor, encodeCursor, pageLimit, toPage } from '../../platform/readmodel/paging.ts';
import { iso } from '../../platform/readmodel/rows.ts';

/** 000's inventory response, plus the product name for admin screens and the stream position. */
export interface InventoryView {
  product_id: string;
  name: string | null;
  total_quantity: number;
  reserved_quantity: number;
  available_quantity: number;
  reservations: Array<{ reservation_id: string; order_id: string; quantity: number; expires_at: string }>;
  updated_at: string;
  version: number;
}

interface InventoryRow extends Omit<InventoryView, 'updated_at'> {
  updated_at: Date;
}

const SELECT_INVENTORY = `
  SELECT i.product_id, p.name, i.total_quantity, i.reserved_quantity, i.available_quantity, i.reservations, i.updated_at, i.version
    FROM read_inventory i LEFT JOIN read_products p ON p.product_id = i.product_id`;

const toInventory = (r: InventoryRow): InventoryView => ({ ...r, updated_at: iso(r.updated_at)! });

export async function getInventory(db: Queryable, productId: string): Promise<InventoryView | null> {
  const { rows } = await db.query<InventoryRow>(`${SELECT_INVENTORY} WHERE i.product_id = $1`, [productId]);
  return rows[0] ? toInventory(rows[0]) : null;
}

/** Every product's stock, by product id, keyset-paginated. */
export async function listInventory(db: Queryable, opts: { limit?: number; cursor?: string } = {}): Promise<Page<InventoryView>> {
  const limit = pageLimit(opts.limit);
  const after = opts.cursor === undefined ? null : (decodeCursor('inventory', opts.cursor, ['string'])[0] as string);
  const { rows } = await db.query<InventoryRow>(
    `${SELECT_INVENTORY} WHERE ($1::text IS NULL OR i.product_id > $1) ORDER BY i.product_id LIMIT $2`,
    [after, limit + 1],
  );
  return toPage(rows, limit, toInventory, (r) => encodeCursor('inventory', [r.product_id]));
}
