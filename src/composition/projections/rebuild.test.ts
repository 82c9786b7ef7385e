import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FAMILIES, familyOf } from './families.ts';
import { progressLine, progressOf } from './rebuild.ts';

test('progress: rate, percentage and ETA from events done, the estimated total and the time spent', () => {
  assert.deepEqual(progressOf({ done: 5_000, total: 20_000, elapsedMs: 2_000 }), { rate: 2_500, percent: 25, eta_seconds: 6 });
  // The total is DynamoDB's estimate: a rebuild past it is at 100 %, not 130 %.
  assert.deepEqual(progressOf({ done: 13_000, total: 10_000, elapsedMs: 1_000 }), { rate: 13_000, percent: 100, eta_seconds: 0 });
  assert.deepEqual(progressOf({ done: 10, total: undefined, elapsedMs: 1_000 }), { rate: 10, percent: undefined, eta_seconds: undefined });
  assert.deepEqual(progressOf({ done: 0, total: 100, elapsedMs: 0 }), { rate: 0, percent: 0, eta_seconds: undefined });
  assert.equal(
    progressLine('r1', 'orders', { done: 5_000, total: 20_000, elapsedMs: 2_000 }),
    'rebuild r1 [orders]: 5000 / ~20000 (25%) events, 2500 events/s, ETA 6 s',
  );
  assert.equal(progressLine('r1', 'all', { done: 7, elapsedMs: 1_000 }), 'rebuild r1 [all]: 7 events, 7 events/s');
});

test('projection families: all by default, one by name, an unknown name lists the choices', () => {
  assert.equal(familyOf(undefined), undefined);
  assert.equal(familyOf('all'), undefined);
  assert.deepEqual(familyOf('orders')?.tables, ['read_orders']);
  assert.throws(() => familyOf('order'), /unknown projection "order": one of all, users, catalog/);
  const tables = FAMILIES.flatMap((f) => f.tables);
  assert.equal(new Set(tables).size, tables.length, 'a table belongs to one family');
  for (const t of tables) assert.match(t, /^read_/);
});
