import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { spec } from '../../../test/support/decider.ts';
import {
  categoryDecider,
  categoryNameClaimDecider,
  categoryNameClaimStreamId,
  legacyCategoryNameClaimStreamId,
  categoryNameKey,
} from './category-decider.ts';
import type { CategoryCreated, CategoryNameClaimed } from './events.ts';
import { isCategoryEventType } from './events.ts';

const NOW = '2025-01-01T10:00:00Z';
const created: CategoryCreated = { type: 'CategoryCreated', data: { category_id: 'c-1', name: '衣類', created_at: NOW } };

describe('Category', () => {
  it('creates a category with a trimmed name', () => {
    spec(categoryDecider).given([]).when({ type: 'CreateCategory', category_id: 'c-1', name: ' 衣類 ', now: NOW }).then([created]);
  });

  it('refuses to create it twice', () => {
    spec(categoryDecider)
      .given([created])
      .when({ type: 'CreateCategory', category_id: 'c-1', name: '衣類', now: NOW })
      .thenThrows({ kind: 'conflict', code: 'category_exists' });
  });

  it('accepts a name of 50 characters, refuses empty and 51', () => {
    spec(categoryDecider)
      .given([])
      .when({ type: 'CreateCategory', category_id: 'c-1', name: 'x'.repeat(50), now: NOW })
      .then([{ ...created, data: { ...created.data, name: 'x'.repeat(50) } }]);
    for (const name of ['', '  ', 'x'.repeat(51)]) {
      spec(categoryDecider)
        .given([])
        .when({ type: 'CreateCategory', category_id: 'c-1', name, now: NOW })
        .thenThrows((e) => e.kind === 'validation' && e.errors?.[0]?.field === 'name');
    }
  });

  it('folds to created state', () => {
    assert.deepEqual(categoryDecider.evolve(categoryDecider.initialState(), created), { status: 'created', ...created.data });
    assert.equal(isCategoryEventType('CategoryCreated'), true);
  });
});

describe('CategoryNameClaim', () => {
  const claimed: CategoryNameClaimed = { type: 'CategoryNameClaimed', data: { name: 'T-Shirts', category_id: 'c-1' } };

  it('folds case and width into the stream key', () => {
    assert.equal(categoryNameKey(' Ｔ-ＳＨＩＲＴＳ '), 't-shirts');
    assert.equal(categoryNameClaimStreamId('T-Shirts'), categoryNameClaimStreamId('ｔ-ｓｈｉｒｔｓ'));
  });

  it('names the stream by a hash of the key: any name gives a safe, fixed-length id', () => {
    for (const name of ['"', '{{7*7}}', '../../../../etc/passwd', 'a b:c/d', '衣類', 'x'.repeat(50)]) {
      assert.match(categoryNameClaimStreamId(name), /^category-name:[A-Za-z0-9_-]{43}$/, name);
    }
    assert.notEqual(categoryNameClaimStreamId('衣類'), categoryNameClaimStreamId('雑貨'));
    assert.equal(legacyCategoryNameClaimStreamId(' T-Shirts'), 'category-name:t-shirts', 'what older releases wrote');
  });

  it('claims a free name', () => {
    spec(categoryNameClaimDecider).given([]).when({ type: 'ClaimCategoryName', name: ' T-Shirts', category_id: 'c-1' }).then([claimed]);
  });

  it('refuses a name another category holds', () => {
    const err = spec(categoryNameClaimDecider)
      .given([claimed])
      .when({ type: 'ClaimCategoryName', name: 't-shirts', category_id: 'c-2' })
      .thenThrows({ kind: 'conflict', code: 'category_name_taken' });
    assert.deepEqual(err.extra, { category_id: 'c-1' });
  });

  it('is idempotent for the holder', () => {
    spec(categoryNameClaimDecider).given([claimed]).when({ type: 'ClaimCategoryName', name: 'T-Shirts', category_id: 'c-1' }).then([]);
  });

  it('validates the name', () => {
    spec(categoryNameClaimDecider)
      .given([])
      .when({ type: 'ClaimCategoryName', name: '', category_id: 'c-1' })
      .thenThrows('validation_failed');
  });
});
