import { z } from 'zod';
import type { DataOf } from '../../platform/shared/contract.ts';
import { createdAt, defineEvent, f, fillMissing } from '../../platform/shared/contract.ts';
import type { DomainEvent } from '../../platform/shared/decider.ts';

export const CATEGORY_NAME_MAX = 50;
export const PRODUCT_NAME_MAX = 200;
export const PRODUCT_DESCRIPTION_MAX = 2000;
export const PRICE_MIN = 1;
/** Integer yen. */
export const PRICE_MAX = 10_000_000;

export const CategoryCreatedV = defineEvent(
  'CategoryCreated',
  z.object({ category_id: f.text(), name: f.str(), created_at: f.time() }),
  /** created_at is absent in events of early releases: the envelope's created_at stands in. */
  { fill: fillMissing({ created_at: createdAt }) },
);
export type CategoryCreatedData = DataOf<typeof CategoryCreatedV>;
export type CategoryCreated = DomainEvent<'CategoryCreated', CategoryCreatedData>;
export type CategoryEvent = CategoryCreated;

export const CategoryNameClaimedV = defineEvent(
  'CategoryNameClaimed',
  /** name as the admin typed it (trimmed); the stream key is its case-folded form. */
  z.object({ name: f.str(), category_id: f.text() }),
);
export type CategoryNameClaimedData = DataOf<typeof CategoryNameClaimedV>;
export type CategoryNameClaimed = DomainEvent<'CategoryNameClaimed', CategoryNameClaimedData>;
export type CategoryNameClaimEvent = CategoryNameClaimed;

/** The editable fields of a product, as every product event that changes them carries them in full. */
const productFields = {
  name: f.str(),
  /** Absent in events of early releases: empty. */
  description: f.str().default(''),
  /** Integer yen. */
  price: f.yen(),
  category_id: f.text().nullable().default(null),
};
export type ProductFields = { name: string; description: string; price: number; category_id: string | null };

export const ProductCreatedV = defineEvent('ProductCreated', z.object({ ...productFields, product_id: f.text(), created_at: f.time() }));
/** A full snapshot of the editable fields after the change, so a projection is a plain upsert. */
export const ProductUpdatedV = defineEvent('ProductUpdated', z.object({ ...productFields, product_id: f.text(), updated_at: f.time() }));
export const ProductDeletedV = defineEvent('ProductDeleted', z.object({ product_id: f.text(), deleted_at: f.time() }));
export const CATALOG_CONTRACTS = [CategoryCreatedV, CategoryNameClaimedV, ProductCreatedV, ProductUpdatedV, ProductDeletedV] as const;
export type ProductCreatedData = DataOf<typeof ProductCreatedV>;
export type ProductUpdatedData = DataOf<typeof ProductUpdatedV>;
export type ProductDeletedData = DataOf<typeof ProductDeletedV>;
export type ProductCreated = DomainEvent<'ProductCreated', ProductCreatedData>;
export type ProductUpdated = DomainEvent<'ProductUpdated', ProductUpdatedData>;
export type ProductDeleted = DomainEvent<'ProductDeleted', ProductDeletedData>;
export type ProductEvent = ProductCreated | ProductUpdated | ProductDeleted;

/** Event type names; `satisfies` makes the compiler reject a missing or extra name. */
export const CategoryEventTypes = { CategoryCreated: 'CategoryCreated' } as const satisfies {
  [K in CategoryEvent['type']]: K;
};
export const CategoryNameClaimEventTypes = { CategoryNameClaimed: 'CategoryNameClaimed' } as const satisfies {
  [K in CategoryNameClaimEvent['type']]: K;
};
export const ProductEventTypes = {
  ProductCreated: 'ProductCreated',
  ProductUpdated: 'ProductUpdated',
  ProductDeleted: 'ProductDeleted',
} as const satisfies { [K in ProductEvent['type']]: K };

export const isCategoryEventType = (type: string): type is CategoryEvent['type'] => Object.hasOwn(CategoryEventTypes, type);
export const isCategoryNameClaimEventType = (type: string): type is CategoryNameClaimEvent['type'] =>
  Object.hasOwn(CategoryNameClaimEventTypes, type);
export const isProductEventType = (type: string): type is ProductEvent['type'] => Object.hasOwn(ProductEventTypes, type);
