import type { AggregateType } from '../../platform/shared/envelope.ts';

/**
 * Projection families: the read tables one `npm run rebuild -- --projection <name>` replaces, and the streams
 * that feed them. A family rebuild applies whole streams of those types (so a stream never has a gap) into a
 * complete empty copy of the read schema, and switches only the family's tables; the other tables it filled on
 * the way (e.g. read_orders, which marketing reads to judge a payment) are dropped with the copy.
 */
export interface ProjectionFamily {
  readonly name: string;
  readonly tables: readonly string[];
  /** Stream types whose events build the tables; undefined = every stream. */
  readonly streams?: readonly AggregateType[];
}

export const FAMILIES: readonly ProjectionFamily[] = [
  { name: 'users', tables: ['read_users'], streams: ['User'] },
  { name: 'catalog', tables: ['read_categories', 'read_products'], streams: ['Category', 'Product'] },
  // A product's stock may share the product's stream (id = product id) or have an inventory-<id> stream.
  { name: 'inventory', tables: ['read_inventory'], streams: ['Product', 'Inventory'] },
  { name: 'carts', tables: ['read_carts'], streams: ['Cart'] },
  { name: 'orders', tables: ['read_orders'], streams: ['Order'] },
  { name: 'shipments', tables: ['read_shipments'], streams: ['Shipment'] },
  { name: 'marketing', tables: ['read_customer_summary', 'read_product_popularity', 'read_daily_sales'], streams: ['User', 'Order'] },
  { name: 'event_log', tables: ['read_event_log'] },
];

export const FAMILY_NAMES = ['all', ...FAMILIES.map((f) => f.name)] as const;

/** Pure: 'all' (undefined) or one family by name; an unknown name is a usage error naming the choices. */
export function familyOf(name: string | undefined): ProjectionFamily | undefined {
  if (name === undefined || name === 'all') return undefined;
  const family = FAMILIES.find((f) => f.name === name);
  if (!family) throw new Error(`unknown projection "${name}": one of ${FAMILY_NAMES.join(', ')}`);
  return family;
}
