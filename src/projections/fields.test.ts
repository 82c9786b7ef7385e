import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventDataError, fieldsOf } from './fields.ts';
import { envelope } from './testing.ts';

test('fieldsOf reads typed fields and names the event and field when one is wrong', () => {
  const event = envelope('OrderPaid', { order_id: 'o1', amount: 1200, paid_at: '2025-01-15T09:00:00.000Z', note: null });
  const f = fieldsOf(event);
  assert.equal(f.str('order_id'), 'o1');
  assert.equal(f.int('amount'), 1200);
  assert.equal(f.time('paid_at'), '2025-01-15T09:00:00.000Z');
  assert.equal(f.optStr('note'), null);
  assert.equal(f.optStr('absent'), null);
  assert.equal(f.optTime('absent'), null);
  assert.throws(() => f.int('order_id'), EventDataError);
  assert.throws(() => f.str('amount'), /OrderPaid agg-1@1 \(.+\): data\.amount must be a string/);
  assert.throws(() => f.time('order_id'), /ISO-8601/);
  assert.throws(() => f.int('missing'), /data\.missing must be an integer/);
  assert.throws(() => fieldsOf(envelope('X', { price: 1.5 })).int('price'), /integer/);
});
