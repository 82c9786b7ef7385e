import type { Queryable } from '../readmodel/db.ts';
import type { EventEnvelope } from '../shared/envelope.ts';
import { fieldsOf } from './fields.ts';

export const name = 'catalog';
export const eventTypes = ['CategoryCreated', 'ProductCreated', 'ProductUpdated', 'ProductDeleted'] as const;

/** read_categories and read_products. A deleted product keeps its row (deleted = true) so its version survives. */
export async function apply(db: Queryable, event: EventEnvelope): Promise<void> {
  const f = fieldsOf(event);
  switch (event.event_type) {
    case 'CategoryCreated':
      await db.query(
        `INSERT INTO read_categories (category_id, name, created_at, version) VALUES ($1, $2, $3, $4)
         ON CONFLICT (category_id) DO UPDATE SET name = EXCLUDED.name, version = EXCLUDED.version
           WHERE read_categories.version < EXCLUDED.version`,
        [f.str('category_id'), f.str('name'), f.optTime('created_at') ?? event.created_at, event.version],
      );
      return;
    case 'ProductCreated': {
      const createdAt = f.time('created_at');
      await db.query(
        `INSERT INTO read_products (product_id, name, description, price, category_id, created_at, updated_at, version)
         VALUES ($1, $2, $3, $4, $5, $6, $6, $7)
         ON CONFLICT (product_id) DO UPDATE
           SET name = EXCLUDED.name, description = EXCLUDED.description, price = EXCLUDED.price,
               category_id = EXCLUDED.category_id, created_at = EXCLUDED.created_at,
               updated_at = EXCLUDED.updated_at, version = EXCLUDED.version
           WHERE read_products.version < EXCLUDED.version`,
        [f.str('product_id'), f.str('name'), f.optStr('description') ?? '', f.int('price'), f.optStr('category_id'), createdAt, event.version],
      );
      return;
    }
    case 'ProductUpdated':
      await db.query(
        `UPDATE read_products
            SET name = $2, description = $3, price = $4, category_id = $5, updated_at = $6, version = $7
          WHERE product_id = $1 AND version < $7`,
        [f.str('product_id'), f.str('name'), f.optStr('description') ?? '', f.int('price'), f.optStr('category_id'), f.time('updated_at'), event.version],
      );
      return;
    case 'ProductDeleted':
      await db.query(
        `UPDATE read_products SET deleted = true, deleted_at = $2, updated_at = $2, version = $3
          WHERE product_id = $1 AND version < $3`,
        [f.str('product_id'), f.time('deleted_at'), event.version],
      );
      return;
  }
}
