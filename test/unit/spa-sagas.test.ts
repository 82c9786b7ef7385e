import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizeSagas } from '../../web/src/api/sagas.ts';

test('the saga page passes the contract shape through as it is', () => {
  const page = {
    items: [
      {
        saga_id: 's-1',
        saga_type: 'fulfilment',
        order_id: 'o-1',
        status: 'compensated',
        started_at: '2026-01-01T00:00:00Z',
        updated_at: '2026-01-01T00:01:00Z',
        steps: [{ step: 'started', status: 'completed', at: '2026-01-01T00:00:00Z', detail: {}, event_ids: ['e-1'] }],
      },
    ],
    next_cursor: 'c-2',
  };
  assert.deepEqual(normalizeSagas(page), page);
});

test('the flat saga log of older apis is grouped into sagas, steps oldest first, sagas newest first', () => {
  const rows = [
    { saga_id: 'o-2', saga_type: 'reservation_expiry', step: 'expired', status: 'completed', detail: { attempts: 1 }, event_id: null, created_at: '2026-01-02T00:00:00.000Z' },
    { saga_id: 'o-1', saga_type: 'x', step: 'b', status: 'failed', detail: { order_id: 'order-9' }, event_id: 'e-2', created_at: '2026-01-01T00:02:00.000Z' },
    { saga_id: 'o-1', saga_type: 'x', step: 'a', status: 'completed', detail: { order_id: 'order-9' }, event_id: 'e-1', created_at: '2026-01-01T00:01:00.000Z' },
  ];
  const page = normalizeSagas({ items: rows });
  assert.equal(page.next_cursor, null);
  assert.deepEqual(page.items.map((s) => s.saga_id), ['o-2', 'o-1']);
  const [expiry, other] = page.items;
  assert.deepEqual([expiry!.order_id, expiry!.status, expiry!.steps.length, expiry!.steps[0]!.event_ids], ['o-2', 'completed', 1, []]);
  assert.deepEqual(other!.steps.map((s) => [s.step, s.status, s.event_ids]), [['a', 'completed', ['e-1']], ['b', 'failed', ['e-2']]]);
  assert.equal(other!.order_id, 'order-9', 'the order id comes from the detail when the saga id is not the order');
  assert.equal(other!.status, 'failed');
  assert.deepEqual([other!.started_at, other!.updated_at], ['2026-01-01T00:01:00.000Z', '2026-01-01T00:02:00.000Z']);
  assert.deepEqual(normalizeSagas(undefined), { items: [], next_cursor: null });
});
