import type { KnownEvent } from '../../kernel/contracts.ts';
import type { TableProjection } from '../../kernel/projection.ts';

export interface CategoryRow {
  category_id: string;
  name: string;
  created_at: string;
  version: number;
}

/** read_categories. */
export const categories: TableProjection<CategoryRow> = {
  name: 'categories',
  table: 'read_categories',
  key: 'category_id',
  columns: ['category_id', 'name', 'created_at', 'version'],
  eventTypes: ['CategoryCreated'],
  keyOf: (e: KnownEvent) => (e.event_type === 'CategoryCreated' ? e.data.category_id : undefined),
  evolve(row, e) {
    if (e.event_type !== 'CategoryCreated') return row;
    // A category keeps the creation time it was first projected with.
    return { category_id: e.data.category_id, name: e.data.name, created_at: row?.created_at ?? e.data.created_at, version: e.version };
  },
};

export interface ProductRow {
  product_id: string;
  name: string;
  description: string;
  price: number;
  category_id: string | null;
  deleted: boolean;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
  version: number;
}

/** read_products. A deleted product keeps its row (deleted = true) so its version survives. */
export const products: TableProjection<ProductRow> = {
  name: 'products',
  table: 'read_products',
  key: 'product_id',
  columns: ['product_id', 'name', 'description', 'price', 'category_id', 'deleted', 'created_at', 'updated_at', 'deleted_at', 'version'],
  eventTypes: ['ProductCreated', 'ProductUpdated', 'ProductDeleted'],
  keyOf(e: KnownEvent) {
    switch (e.event_type) {
      case 'ProductCreated':
      case 'ProductUpdated':
      case 'ProductDeleted':
        return e.data.product_id;
      default:
        return undefined;
    }
  },
  evolve(row, e) {
    switch (e.event_type) {
      case 'ProductCreated': {
        const { product_id, name, description, price, category_id, created_at } = e.data;
        return {
          product_id,
          name,
          description,
          price,
          category_id,
          deleted: row?.deleted ?? false,
          created_at,
          updated_at: created_at,
          deleted_at: row?.deleted_at ?? null,
          version: e.version,
        };
      }
      case 'ProductUpdated': {
        if (!row) return row;
        const { name, description, price, category_id, updated_at } = e.data;
        return { ...row, name, description, price, category_id, updated_at, version: e.version };
      }
      case 'ProductDeleted':
        return row && { ...row, deleted: true, deleted_at: e.data.deleted_at, updated_at: e.data.deleted_at, version: e.version };
      default:
        return row;
    }
  },
};
