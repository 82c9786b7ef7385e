import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidEnvelopeError, planBatch } from './batch.ts';
import { shuffle, stream } from '../../../test/support/projection.ts';

test('planBatch groups by stream, sorts streams by id and events by version, drops in-batch redeliveries', () => {
  const b = stream('Order', 'b-order');
  const a = stream('Cart', 'a-cart');
  for (let i = 0; i < 4; i++) b.next('E', {});
  for (let i = 0; i < 2; i++) a.next('E', {});
  const delivered = shuffle([...b.events, ...a.events, b.events[1]!, a.events[0]!], 7);
  const plan = planBatch(delivered);
  assert.deepEqual(
    plan.map((s) => [s.aggregate_id, s.aggregate_type, s.events.map((e) => e.version)]),
    [
      ['a-cart', 'Cart', [1, 2]],
      ['b-order', 'Order', [1, 2, 3, 4]],
    ],
  );
});

test('planBatch rejects envelopes it cannot order', () => {
  const s = stream('Order', 'o');
  const good = s.next('E', {});
  assert.throws(() => planBatch([{ ...good, version: 0 }]), InvalidEnvelopeError);
  assert.throws(() => planBatch([{ ...good, version: 1.5 }]), /version/);
  assert.throws(() => planBatch([{ ...good, aggregate_id: '' }]), /aggregate_id/);
  assert.throws(() => planBatch([{ ...good, created_at: 'yesterday' }]), /created_at/);
  assert.deepEqual(planBatch([]), []);
});
