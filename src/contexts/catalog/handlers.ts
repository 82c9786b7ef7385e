import {
  categoryDecider,
  categoryNameClaimDecider,
  categoryNameClaimStreamId,
  legacyCategoryNameClaimStreamId,
  productDecider,
  type CategoryState,
} from './index.ts';
import { inventoryDecider, inventoryStreamId } from '../inventory/index.ts';
import { AppError, conflict, notFound } from '../../platform/shared/errors.ts';
import { UUID_PATTERN } from '../../platform/shared/validate.ts';
import type { AppContext } from '../../kernel/context.ts';
import type { CommandHandler } from '../../kernel/handler.ts';
import { streamWrite, type Streams } from '../../kernel/streams.ts';

export interface ProductInput {
  name: string;
  description: string;
  price: number;
  stock: number;
  /** A category id or name; null or absent for none. */
  category?: string | null;
}

export interface ProductChanges {
  name?: string;
  description?: string;
  price?: number;
  category?: string | null;
}

/** Products and categories (004). Creating a product records ProductCreated and StockAdded atomically. */
export function createCatalogHandlers(ctx: AppContext) {
  /** The claim of a name: the hashed stream, or the one older releases wrote (read only). */
  async function loadNameClaim(streams: Streams, name: string) {
    const current = await streams.categoryName(name);
    if (current.state.status === 'claimed') return { current, legacy: undefined };
    return { current, legacy: await streams.legacyCategoryName(name) };
  }

  /** A category given by id or by name resolves through the name claim stream (consistent, no read model). */
  async function resolveCategory(
    streams: Streams,
    ref: string | null | undefined,
  ): Promise<{ id: string | null; state: CategoryState | null }> {
    if (ref === null || ref === undefined || ref === '') return { id: null, state: null };
    // Category ids are UUIDs; anything else can only be a name (and must never be read as some other stream).
    if (UUID_PATTERN.test(ref)) {
      const byId = await streams.category(ref).catch((err: unknown) => {
        if (err instanceof AppError && err.kind === 'not_found') return undefined; // another aggregate's id
        throw err;
      });
      if (byId?.state.status === 'created') return { id: ref, state: byId.state };
    }
    const { current, legacy } = await loadNameClaim(streams, ref);
    const claim = current.state.status === 'claimed' ? current.state : legacy?.state.status === 'claimed' ? legacy.state : undefined;
    if (!claim) throw notFound('category', ref);
    const byName = await streams.category(claim.category_id);
    return { id: claim.category_id, state: byName.state };
  }

  return {
    createCategory: (async (streams, { category_id, name }) => {
      const now = ctx.clock().toISOString();
      const { current, legacy } = await loadNameClaim(streams, name);
      // Legacy claims are never written again, so one that is claimed belongs to another category.
      if (legacy?.state.status === 'claimed') {
        throw conflict('category_name_taken', `a category named ${JSON.stringify(legacy.state.name)} already exists`, {
          category_id: legacy.state.category_id,
        });
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
        result: { id: category_id, category_id, name: created.name, created_at: created.created_at, version: 1 },
      };
    }) satisfies CommandHandler<
      { category_id: string; name: string },
      { id: string; category_id: string; name: string; created_at: string; version: number }
    >,

    createProduct: (async (streams, { product_id, ...input }) => {
      const now = ctx.clock().toISOString();
      // Read although new (the id was just drawn): the executor then writes both streams' tips with them.
      const [category, product, inventory] = await Promise.all([
        resolveCategory(streams, input.category),
        streams.product(product_id),
        streams.inventory(product_id),
      ]);
      const productEvents = productDecider.decide(
        {
          type: 'CreateProduct',
          product_id,
          name: input.name,
          description: input.description,
          price: input.price,
          category_id: category.id,
          category: category.state,
          now,
        },
        product.state,
      );
      // A product may start with no stock; the inventory stream then begins with the first add_stock.
      const stockEvents =
        input.stock > 0 ? inventoryDecider.decide({ type: 'AddStock', product_id, quantity: input.stock, now }, inventory.state) : [];
      const created = productEvents[0]!.data;
      return {
        writes: [
          streamWrite(product_id, 'Product', product.version, productEvents),
          streamWrite(inventoryStreamId(product_id), 'Inventory', inventory.version, stockEvents),
        ],
        result: { id: product_id, ...created, stock: input.stock, version: productEvents.length },
      };
    }) satisfies CommandHandler<ProductInput & { product_id: string }, Record<string, unknown> & { id: string; version: number }>,

    updateProduct: (async (streams, { product_id: productId, ...changes }) => {
      const product = await streams.product(productId);
      const category = changes.category === undefined ? undefined : await resolveCategory(streams, changes.category);
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
      return {
        writes: [streamWrite(productId, 'Product', product.version, events)],
        result: { id: productId, ...view, version: product.version + events.length },
      };
    }) satisfies CommandHandler<ProductChanges & { product_id: string }, Record<string, unknown> & { id: string; version: number }>,

    deleteProduct: (async (streams, { product_id: productId }) => {
      const product = await streams.product(productId);
      const events = productDecider.decide({ type: 'DeleteProduct', product_id: productId, now: ctx.clock().toISOString() }, product.state);
      return {
        writes: [streamWrite(productId, 'Product', product.version, events)],
        result: { id: productId, deleted: true, version: product.version + events.length },
      };
    }) satisfies CommandHandler<{ product_id: string }, { id: string; deleted: true; version: number }>,
  };
}
