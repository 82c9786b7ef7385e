import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fold } from '../../platform/shared/decider.ts';
import { spec } from '../../../test/support/decider.ts';
import type { CategoryState } from './category-decider.ts';
import type { ProductCreated, ProductDeleted, ProductUpdated } from './events.ts';
import { isProductEventType, PRICE_MAX } from './events.ts';
import type { ProductCommand } from './product-decider.ts';
import { isAvailable, productDecider } from './product-decider.ts';

const T0 = '2025-01-01T10:00:00Z';
const T1 = '2025-01-02T10:00:00Z';
const clothes: CategoryState = { status: 'created', category_id: 'c-1', name: '衣類', created_at: T0 };
const books: CategoryState = { status: 'created', category_id: 'c-2', name: '本', created_at: T0 };

const create = (over: Partial<Extract<ProductCommand, { type: 'CreateProduct' }>> = {}): ProductCommand => ({
  type: 'CreateProduct',
  product_id: 'p-1',
  name: ' Tシャツ ',
  description: '綿100%\n日本製 ',
  price: 2000,
  category_id: 'c-1',
  category: clothes,
  now: T0,
  ...over,
});
const created: ProductCreated = {
  type: 'ProductCreated',
  data: { product_id: 'p-1', name: 'Tシャツ', description: '綿100%\n日本製', price: 2000, category_id: 'c-1', created_at: T0 },
};
const update = (over: Partial<Extract<ProductCommand, { type: 'UpdateProduct' }>>): ProductCommand => ({
  type: 'UpdateProduct',
  product_id: 'p-1',
  now: T1,
  ...over,
});
const updated = (over: Partial<ProductUpdated['data']>): ProductUpdated => ({
  type: 'ProductUpdated',
  data: { product_id: 'p-1', name: 'Tシャツ', description: '綿100%\n日本製', price: 2000, category_id: 'c-1', updated_at: T1, ...over },
});
const deleted: ProductDeleted = { type: 'ProductDeleted', data: { product_id: 'p-1', deleted_at: T1 } };

describe('Product: create', () => {
  it('creates a product with trimmed texts', () => {
    spec(productDecider).given([]).when(create()).then([created]);
  });

  it('creates a product without category', () => {
    spec(productDecider)
      .given([])
      .when(create({ category_id: null, category: null }))
      .then([{ ...created, data: { ...created.data, category_id: null } }]);
  });

  it('refuses an unknown category (not_found), whatever state was passed', () => {
    for (const category of [null, { status: 'none' } as const, books]) {
      spec(productDecider).given([]).when(create({ category })).thenThrows({ kind: 'not_found', message: 'category c-1 not found' });
    }
  });

  it('refuses to create an existing or deleted product', () => {
    spec(productDecider).given([created]).when(create()).thenThrows({ kind: 'conflict', code: 'product_exists' });
    spec(productDecider).given([created, deleted]).when(create()).thenThrows('product_exists');
  });

  it('checks price bounds: 1 and 10,000,000 yen are fine; 0, 10,000,001, 1.5, NaN and "100" are not', () => {
    for (const price of [1, PRICE_MAX]) {
      spec(productDecider)
        .given([])
        .when(create({ price }))
        .then([{ ...created, data: { ...created.data, price } }]);
    }
    for (const price of [0, -1, PRICE_MAX + 1, 1.5, Number.NaN, '100' as never]) {
      spec(productDecider)
        .given([])
        .when(create({ price }))
        .thenThrows((e) => e.errors?.[0]?.field === 'price');
    }
  });

  it('checks name 1..200 and description ≤ 2000 and reports all fields', () => {
    spec(productDecider)
      .given([])
      .when(create({ name: 'n'.repeat(200), description: 'd'.repeat(2000) }))
      .then([{ ...created, data: { ...created.data, name: 'n'.repeat(200), description: 'd'.repeat(2000) } }]);
    const err = spec(productDecider)
      .given([])
      .when(create({ name: '', description: 'd'.repeat(2001), price: 0, category_id: 'bad id' }))
      .thenThrows('validation_failed');
    assert.deepEqual(
      err.errors?.map((e) => e.field),
      ['name', 'description', 'price', 'category_id'],
    );
    spec(productDecider)
      .given([])
      .when(create({ name: 'n'.repeat(201) }))
      .thenThrows((e) => e.errors?.[0]?.field === 'name');
    spec(productDecider)
      .given([])
      .when(create({ description: '' }))
      .then([{ ...created, data: { ...created.data, description: '' } }]);
  });
});

describe('Product: update', () => {
  it('records a full snapshot of the editable fields', () => {
    spec(productDecider)
      .given([created])
      .when(update({ price: 1800 }))
      .then([updated({ price: 1800 })]);
    spec(productDecider)
      .given([created])
      .when(update({ name: 'ポロシャツ', description: '', price: 3000, category_id: null }))
      .then([updated({ name: 'ポロシャツ', description: '', price: 3000, category_id: null })]);
  });

  it('records nothing when nothing changes (after trimming)', () => {
    spec(productDecider).given([created]).when(update({})).then([]);
    spec(productDecider)
      .given([created])
      .when(update({ name: ' Tシャツ', price: 2000, category_id: 'c-1' }))
      .then([]);
  });

  it('needs the new category to exist when it changes, not when it stays', () => {
    spec(productDecider)
      .given([created])
      .when(update({ category_id: 'c-2', category: books }))
      .then([updated({ category_id: 'c-2' })]);
    spec(productDecider)
      .given([created])
      .when(update({ category_id: 'c-2' }))
      .thenThrows({ kind: 'not_found' });
    spec(productDecider)
      .given([created])
      .when(update({ category_id: 'c-1', price: 5 }))
      .then([updated({ price: 5 })]);
  });

  it('validates the merged fields', () => {
    spec(productDecider)
      .given([created])
      .when(update({ price: 0 }))
      .thenThrows((e) => e.errors?.[0]?.field === 'price');
    spec(productDecider)
      .given([created])
      .when(update({ name: ' ' }))
      .thenThrows((e) => e.errors?.[0]?.field === 'name');
  });

  it('refuses to update an unknown or deleted product (not_found)', () => {
    spec(productDecider)
      .given([])
      .when(update({ price: 5 }))
      .thenThrows({ kind: 'not_found', message: 'product p-1 not found' });
    spec(productDecider)
      .given([created, deleted])
      .when(update({ price: 5 }))
      .thenThrows({ kind: 'not_found' });
  });
});

describe('Product: delete', () => {
  it('deletes an active product', () => {
    spec(productDecider).given([created]).when({ type: 'DeleteProduct', product_id: 'p-1', now: T1 }).then([deleted]);
  });

  it('refuses to delete an unknown or deleted product (not_found)', () => {
    spec(productDecider).given([]).when({ type: 'DeleteProduct', product_id: 'p-1', now: T1 }).thenThrows({ kind: 'not_found' });
    spec(productDecider)
      .given([created, deleted])
      .when({ type: 'DeleteProduct', product_id: 'p-1', now: T1 })
      .thenThrows({ kind: 'not_found' });
  });
});

describe('Product: evolve', () => {
  it('tracks fields, timestamps and availability', () => {
    const s1 = fold(productDecider, productDecider.initialState(), [created]);
    assert.deepEqual(s1, {
      status: 'active',
      product_id: 'p-1',
      name: 'Tシャツ',
      description: '綿100%\n日本製',
      price: 2000,
      category_id: 'c-1',
      created_at: T0,
      updated_at: T0,
      deleted_at: null,
    });
    assert.equal(isAvailable(s1), true);
    const s2 = fold(productDecider, s1, [updated({ price: 1500 })]);
    assert.equal(s2.status === 'active' && s2.price, 1500);
    assert.equal(s2.status === 'active' && s2.updated_at, T1);
    const s3 = fold(productDecider, s2, [deleted]);
    assert.equal(s3.status, 'deleted');
    assert.equal(isAvailable(s3), false);
    assert.equal(isAvailable(productDecider.initialState()), false);
    assert.equal(isProductEventType('ProductDeleted'), true);
    assert.equal(isProductEventType('StockAdded'), false);
  });
});
