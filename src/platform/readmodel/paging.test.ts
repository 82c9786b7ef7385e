import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from '../shared/errors.ts';
import { decodeCursor, encodeCursor, pageLimit, toPage } from './paging.ts';

test('cursors round-trip and are opaque url-safe strings', () => {
  const c = encodeCursor('products', ['2025-01-15T09:00:00.123456Z', 'p/1+2']);
  assert.match(c, /^[A-Za-z0-9_-]+$/);
  assert.deepEqual(decodeCursor('products', c, ['string', 'string']), ['2025-01-15T09:00:00.123456Z', 'p/1+2']);
});

test('a cursor from another listing, of another shape or garbage is a validation error', () => {
  const orders = encodeCursor('orders', ['t', 'o1']);
  for (const bad of [orders, encodeCursor('products', ['t']), encodeCursor('products', ['t', 5]), 'not-base64!', '', 'e30']) {
    assert.throws(
      () => decodeCursor('products', bad, ['string', 'string']),
      (err: unknown) => err instanceof AppError && err.kind === 'validation',
    );
  }
  assert.throws(() => decodeCursor('stream', encodeCursor('stream', [1.5]), ['number']), AppError);
});

test('forged cursors whose parts the SQL would choke on are validation errors', () => {
  const good = encodeCursor('events', ['2025-01-15T09:00:00.123456Z', '0b5a3c1e-8f0e-4d2a-9b7c-1d2e3f4a5b6c']);
  assert.deepEqual(decodeCursor('events', good, ['time', 'uuid']), ['2025-01-15T09:00:00.123456Z', '0b5a3c1e-8f0e-4d2a-9b7c-1d2e3f4a5b6c']);
  const forged: Array<[unknown[], Array<'string' | 'number' | 'time' | 'uuid'>]> = [
    [
      ['not-a-date', 'x'],
      ['time', 'string'],
    ],
    [
      ['2025-13-45T99:00:00Z', 'x'],
      ['time', 'string'],
    ],
    [
      ['0000-01-01T00:00:00Z', 'x'],
      ['time', 'string'],
    ],
    [
      ['2024-02-31T00:00:00Z', 'x'],
      ['time', 'string'],
    ],
    [
      ['2024-02-30T12:00:00.123456Z', 'x'],
      ['time', 'string'],
    ],
    [
      ['2025-01-15T09:00:00Z', 'x\u0000'],
      ['time', 'string'],
    ],
    [
      ['2025-01-15T09:00:00Z', 'not-a-uuid'],
      ['time', 'uuid'],
    ],
    [[2 ** 40], ['number']],
    [[-1], ['number']],
  ];
  for (const [values, shape] of forged) {
    assert.throws(() => decodeCursor('k', encodeCursor('k', values as Array<string | number>), shape), AppError, JSON.stringify(values));
  }
});

test('pageLimit: default, clamp to max, reject non-positive or fractional', () => {
  assert.equal(pageLimit(undefined), 20);
  assert.equal(pageLimit(5), 5);
  assert.equal(pageLimit(1000), 100);
  for (const bad of [0, -1, 2.5, Number.NaN]) assert.throws(() => pageLimit(bad), AppError);
});

test('toPage uses the extra row only to tell that there is a next page', () => {
  const rows = [1, 2, 3];
  assert.deepEqual(
    toPage(
      rows,
      2,
      (r) => r * 10,
      (r) => `c${r}`,
    ),
    { items: [10, 20], next_cursor: 'c2' },
  );
  assert.deepEqual(
    toPage(
      rows,
      3,
      (r) => r,
      (r) => `c${r}`,
    ),
    { items: [1, 2, 3], next_cursor: null },
  );
});
