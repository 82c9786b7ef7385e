import {
  categoryDecider,
  categoryNameClaimDecider,
  categoryNameClaimStreamId,
  legacyCategoryNameClaimStreamId,
  productDecider,
  type CategoryState,
} from '../catalog/index.ts';
import { inventoryDecider, inventoryStreamId } from '../inventory/index.ts';
import { AppError, conflict, notFound } from '../shared/errors.ts';
import { UUID_PATTERN } from '../shared/validate.ts';
import type { AppContext } from './context.ts';
import type { Plan } from './executor.ts';
import { streamWrite, type Streams } from './streams.ts';

export interface ProductInput {
  name: string;
  description: string;
  price: number;
  stock: number;
  /** A category id or name; null or absent for none. */
  category?: string | null;
}

/** Products and categories (004). Creating a product records ProductCreated and StockAdded atomically. */
export function createCatalogService(ctx: AppContext, streams: Streams) {
  /** The claim of a name: the hashed stream, or the one older releases wrote (read only). */
  async function loadNameClaim(name: string) {
    const current = await streams.categoryName(name);
    if (current.state.status === 'claimed') return { current, legacy: undefined };
    return { current, legacy: await streams.legacyCategoryName(name) };
  }

  /** A category given by id or by name resolves through the name claim stream (consistent, no read model). */
  async function resolveCategory(ref: string | null | undefined): Promise<{ id: string | null; state: CategoryState | null }> {
    if (ref === null || ref === undefined || ref === '') return { id: null, state: null };
    // Category ids are UUIDs; anything else can only be a name (and must never be read as some other stream).
    if (UUID_PATTERN.test(ref)) {
      const byId = await streams.category(ref).catch((err: unknown) => {
        if (err instanceof AppError && err.kind === 'not_found') return undefined; // another aggregate's id
        throw err;
      });
      if (byId?.state.status === 'created') return { id: ref, state: byId.state };
    }
    const { current, legacy } = await loadNameClaim(ref);
    const claim = current.state.status === 'claimed' ? current.state : legacy?.state.status === 'claimed' ? legacy.state : undefined;
    if (!claim) throw notFound('category', ref);
    const byName = await streams.category(claim.category_id);
    return { id: claim.category_id, state: byName.state };
  }

  return {
    createCategory: (name: string) => {
      const category_id = ctx.newId();
      return async (): Promise<Plan> => {
        const now = ctx.clock().toISOString();
        const { current, legacy } = await loadNameClaim(name);
        // Legacy claims are never written again, so one that is claimed belongs to another category.
        if (legacy?.state.status === 'claimed') {
          throw conflict('category_name_taken', `a category named ${JSON.stringify(legacy.state.name)} already exists`, { category_id: legacy.state.category_id });
        }
        const claimEvents = categoryNameClaimDecider.decide({ type: 'ClaimCategoryName', name, category_id }, current.state);
        const events = categoryDecider.decide({ type: 'CreateCategory', category_id, name, now }, categoryDecider.initialState());
        const created = events[0]!.data;
        return {
          writes: [
            streamWrite(categoryNameClaimStreamId(name), 'CategoryNameClaim', current.version, claimEvents),
            // A guard: the legacy claim must still be free when this commits (an older release may still run).
            ...(legacy ? [streamWrite(legacyCategoryNameClaimStreamId(name), 'CategoryNameClaim', legacy.version, [])] : []),
            streamWrite(category_id, 'Category', 0, events),
          ],
          status: 201,
          body: { id: category_id, category_id, name: created.name, created_at: created.created_at, version: 1 },
        };
      };
    },

    createProduct: (input: ProductInput) => {
      const product_id = ctx.newId();
      return async (): Promise<Plan> => {
        const now = ctx.clock().toISOString();
        const category = await resolveCategory(input.category);
        const productEvents = productDecider.decide(
          { type: 'CreateProduct', product_id, name: input.name, description: input.description, price: input.price, category_id: category.id, category: category.state, now },
          productDecider.initialState(),
        );
        // A product may start with no stock; the inventory stream then begins with the first add_stock.
        const stockEvents = input.stock > 0 ? inventoryDecider.decide({ type: 'AddStock', product_id, quantity: input.stock, now }, inventoryDecider.initialState()) : [];
        const created = productEvents[0]!.data;
        return {
          writes: [streamWrite(product_id, 'Product', 0, productEvents), streamWrite(inventoryStreamId(product_id), 'Inventory', 0, stockEvents)],
          status: 201,
          body: { id: product_id, ...created, stock: input.stock, version: productEvents.length },
        };
      };
    },

    updateProduct: (productId: string, changes: { name?: string; description?: string; price?: number; category?: string | null }) => async (): Promise<Plan> => {
      const product = await streams.product(productId);
      const category = changes.category === undefined ? undefined : await resolveCategory(changes.category);
      const events = productDecider.decide(
        {
          type: 'UpdateProduct',
          product_id: productId,
          now: ctx.clock().toISOString(),
          ...(changes.name !== undefined ? { name: changes.name } : {}),
          ...(changes.description !== undefined ? { description: changes.description } : {}),
          ...(changes.price !== undefined ? { price: changes.price } : {}),
          ...(category ? { category_id: category.id, category: category.state } : {}),
        },
        product.state,
      );
      const state = events.reduce(productDecider.evolve, product.state);
      if (state.status !== 'active') throw notFound('product', productId);
      const { status: _status, ...view } = state;
      return { writes: [streamWrite(productId, 'Product', product.version, events)], status: 200, body: { id: productId, ...view, version: product.version + events.length } };
    },

    deleteProduct: (productId: string) => async (): Promise<Plan> => {
      const product = await streams.product(productId);
      const events = productDecider.decide({ type: 'DeleteProduct', product_id: productId, now: ctx.clock().toISOString() }, product.state);
      return { writes: [streamWrite(productId, 'Product', product.version, events)], status: 200, body: { id: productId, deleted: true, version: product.version + events.length } };
    },
  };
}

export type CatalogService = ReturnType<typeof createCatalogService>;
