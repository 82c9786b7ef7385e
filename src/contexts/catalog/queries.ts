import type { Queryable } from '../../platform/readmodel/db.ts';
import type { Page } from '../../platform/readmodel/paging.ts';
import { decodeCursor, encodeCursor, pageLimit, toPage } from '../../platform/readmodel/paging.ts';
import { exactTime, iso } from '../../platform/readmodel/rows.ts';
import { containsPattern, searchTerms } from '../../platform/readmodel/search.ts';

export interface ProductView {
  id: string;
  name: string;
  description: string;
  price: number;
  category_id: string | null;
  category_name: string | null;
  /** What a buyer can still order: available_quantity (004's `stock`). */
  stock: number;
  total_quantity: number;
  reserved_quantity: number;
  available_quantity: number;
  deleted: boolean;
  created_at: string;
  updated_at: string;
  version: number;
}

export interface CategoryView {
  id: string;
  name: string;
  created_at: string;
}

interface ProductRow {
  product_id: string;
  name: string;
  description: string;
  price: number;
  category_id: string | null;
  category_name: string | null;
  total_quantity: number;
  reserved_quantity: number;
  available_quantity: number;
  deleted: boolean;
  created_at: Date;
  updated_at: Date;
  version: number;
  cursor_at: string;
}

// Stock and category name are joined, not copied (see migrations/001_baseline.sql, read_products).
const SELECT_PRODUCT = `
  SELECT p.product_id, p.name, p.description, p.price, p.category_id, c.name AS category_name,
         COALESCE(i.total_quantity, 0) AS total_quantity, COALESCE(i.reserved_quantity, 0) AS reserved_quantity,
         COALESCE(i.available_quantity, 0) AS available_quantity,
         p.deleted, p.created_at, p.updated_at, p.version, ${exactTime('p.created_at')} AS cursor_at
    FROM read_products p
    LEFT JOIN read_categories c ON c.category_id = p.category_id
    LEFT JOIN read_inventory i ON i.product_id = p.product_id`;

const toProduct = (r: ProductRow): ProductView => ({
  id: r.product_id,
  name: r.name,
  description: r.description,
  price: r.price,
  category_id: r.category_id,
  category_name: r.category_name,
  stock: r.available_quantity,
  total_quantity: r.total_quantity,
  reserved_quantity: r.reserved_quantity,
  available_quantity: r.available_quantity,
  deleted: r.deleted,
  created_at: iso(r.created_at)!,
  updated_at: iso(r.updated_at)!,
  version: r.version,
});

/** One product; a deleted one only when asked (admin views), otherwise null like an unknown id. */
export async function getProduct(db: Queryable, id: string, opts: { includeDeleted?: boolean } = {}): Promise<ProductView | null> {
  const { rows } = await db.query<ProductRow>(`${SELECT_PRODUCT} WHERE p.product_id = $1`, [id]);
  const row = rows[0];
  return row && (opts.includeDeleted || !row.deleted) ? toProduct(row) : null;
}

export interface ListProductsOptions {
  /** Search text: every whitespace-separated term must occur in the name or description (Japanese included). */
  q?: string;
  /** A category id, or a category name (case-insensitive). */
  category?: string;
  limit?: number;
  cursor?: string;
}

/** Live products, newest first, keyset-paginated on (created_at, id). */
export async function listProducts(db: Queryable, opts: ListProductsOptions = {}): Promise<Page<ProductView>> {
  const limit = pageLimit(opts.limit);
  const params: unknown[] = [];
  const param = (value: unknown) => `$${params.push(value)}`;
  const where = ['NOT p.deleted'];
  if (opts.category !== undefined) {
    const c = param(opts.category);
    where.push(`(p.category_id = ${c} OR p.category_id IN (SELECT category_id FROM read_categories WHERE lower(name) = lower(${c})))`);
  }
  for (const term of searchTerms(opts.q)) {
    // The word match uses the tsvector index; the substring match (trigram index) is what finds Japanese.
    where.push(`(p.search @@ plainto_tsquery('simple', ${param(term)}) OR p.search_text LIKE lower(${param(containsPattern(term))}))`);
  }
  if (opts.cursor !== undefined) {
    const [at, id] = decodeCursor('products', opts.cursor, ['time', 'string']);
    where.push(`(p.created_at, p.product_id) < (${param(at)}::timestamptz, ${param(id)})`);
  }
  const { rows } = await db.query<ProductRow>(
    `${SELECT_PRODUCT} WHERE ${where.join(' AND ')} ORDER BY p.created_at DESC, p.product_id DESC LIMIT ${param(limit + 1)}`,
    params,
  );
  return toPage(rows, limit, toProduct, (r) => encodeCursor('products', [r.cursor_at, r.product_id]));
}

/** Every category, by name (a shop has tens of them, not thousands: no paging). */
export async function listCategories(db: Queryable): Promise<CategoryView[]> {
  const { rows } = await db.query<{ category_id: string; name: string; created_at: Date }>(
    'SELECT category_id, name, created_at FROM read_categories ORDER BY name, category_id',
  );
  return rows.map((r) => ({ id: r.category_id, name: r.name, created_at: iso(r.created_at)! }));
}
