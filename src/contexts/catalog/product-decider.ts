import type { Decider } from '../../platform/shared/decider.ts';
import { conflict, notFound } from '../../platform/shared/errors.ts';
import type { Check } from '../../platform/shared/validate.ts';
import { ensure, id, intInRange, multiLine, nowMs, singleLine, trimmed } from '../../platform/shared/validate.ts';
import type { CategoryState } from './category-decider.ts';
import type { ProductEvent, ProductFields } from './events.ts';
import { PRICE_MAX, PRICE_MIN, PRODUCT_DESCRIPTION_MAX, PRODUCT_NAME_MAX } from './events.ts';

/**
 * `category` is the state of the category stream `category_id` names, loaded by the application (null when
 * category_id is null): the decider checks it exists without reading a read model.
 */
export type ProductCommand =
  | ({ type: 'CreateProduct'; product_id: string; category: CategoryState | null; now: string } & ProductFields)
  | ({
      type: 'UpdateProduct';
      product_id: string;
      /** Needed only when category_id changes to a non-null id. */
      category?: CategoryState | null;
      now: string;
    } & Partial<ProductFields>)
  | { type: 'DeleteProduct'; product_id: string; now: string };

export type ProductView = ProductFields & {
  product_id: string;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
};
export type ActiveProduct = { status: 'active' } & ProductView;
export type ProductState = { status: 'none' } | ActiveProduct | ({ status: 'deleted' } & ProductView);

const fieldChecks = (f: ProductFields): Check[] => [
  singleLine('name', f.name, 1, PRODUCT_NAME_MAX),
  multiLine('description', f.description, PRODUCT_DESCRIPTION_MAX),
  intInRange('price', f.price, PRICE_MIN, PRICE_MAX),
  f.category_id === null ? null : id('category_id', f.category_id),
];

const requireCategory = (categoryId: string, category: CategoryState | null | undefined): void => {
  if (!category || category.status !== 'created' || category.category_id !== categoryId) {
    throw notFound('category', categoryId);
  }
};

const sameFields = (a: ProductFields, b: ProductFields): boolean =>
  a.name === b.name && a.description === b.description && a.price === b.price && a.category_id === b.category_id;

export const productDecider: Decider<ProductCommand, ProductState, ProductEvent> = {
  initialState: () => ({ status: 'none' }),

  decide: (command, state) => {
    switch (command.type) {
      case 'CreateProduct': {
        const fields: ProductFields = {
          name: trimmed(command.name),
          description: trimmed(command.description),
          price: command.price,
          category_id: command.category_id,
        };
        ensure(id('product_id', command.product_id), ...fieldChecks(fields));
        nowMs(command.now);
        if (state.status !== 'none') throw conflict('product_exists', `product ${command.product_id} already exists`);
        if (fields.category_id !== null) requireCategory(fields.category_id, command.category);
        return [{ type: 'ProductCreated', data: { product_id: command.product_id, ...fields, created_at: command.now } }];
      }
      case 'UpdateProduct': {
        nowMs(command.now);
        if (state.status !== 'active') throw notFound('product', command.product_id);
        const fields: ProductFields = {
          name: command.name === undefined ? state.name : trimmed(command.name),
          description: command.description === undefined ? state.description : trimmed(command.description),
          price: command.price === undefined ? state.price : command.price,
          category_id: command.category_id === undefined ? state.category_id : command.category_id,
        };
        ensure(...fieldChecks(fields));
        if (sameFields(fields, state)) return [];
        if (fields.category_id !== null && fields.category_id !== state.category_id) {
          requireCategory(fields.category_id, command.category);
        }
        return [{ type: 'ProductUpdated', data: { product_id: state.product_id, ...fields, updated_at: command.now } }];
      }
      case 'DeleteProduct': {
        nowMs(command.now);
        if (state.status !== 'active') throw notFound('product', command.product_id);
        return [{ type: 'ProductDeleted', data: { product_id: state.product_id, deleted_at: command.now } }];
      }
    }
  },

  evolve: (state, event) => {
    switch (event.type) {
      case 'ProductCreated': {
        const { created_at, ...rest } = event.data;
        return { status: 'active', ...rest, created_at, updated_at: created_at, deleted_at: null };
      }
      case 'ProductUpdated': {
        if (state.status === 'none') return state;
        const { updated_at, ...rest } = event.data;
        return { ...state, ...rest, updated_at };
      }
      case 'ProductDeleted':
        if (state.status === 'none') return state;
        return { ...state, status: 'deleted', deleted_at: event.data.deleted_at, updated_at: event.data.deleted_at };
    }
  },
};

/** True when the product can be put in a cart or bought. */
export const isAvailable = (state: ProductState): state is ActiveProduct => state.status === 'active';
