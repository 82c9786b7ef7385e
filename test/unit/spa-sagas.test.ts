import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventHref, indexEvents, sagaStreams, summarizeSaga } from '../../web/src/api/sagas.ts';
import type { Saga, SagaStep, StoredEvent } from '../../web/src/api/types.ts';
import { stepDetails } from '../../web/src/lib/format.ts';

const step = (name: string, over: Partial<SagaStep> = {}): SagaStep => ({
  step: name,
  status: 'completed',
  at: '2026-01-01T00:00:00.000Z',
  detail: {},
  event_ids: [],
  ...over,
});
const saga = (status: Saga['status'], steps: SagaStep[], over: Partial<Saga> = {}): Saga => ({
  saga_id: 'fulfilment-o-1',
  saga_type: 'fulfilment',
  order_id: 'o-1',
  status,
  started_at: '2026-01-01T00:00:00.000Z',
  updated_at: '2026-01-01T00:00:03.000Z',
  steps,
  ...over,
});

test('a failed shipment: the outcome, the carrier reason, the refund and every event the compensation wrote', () => {
  const s = summarizeSaga(
    saga('compensated', [
      step('started', { detail: { amount: 2560 }, event_ids: ['e-paid'] }),
      step('shipment_opened', { event_ids: ['e-init'] }),
      step('shipment_requested', { detail: { carrier: 'simulated', carrier_reference: 'SIM-1' }, event_ids: ['e-req'] }),
      step('failed', { status: 'failed', detail: { reason: '宛先不明のため配達できませんでした' }, event_ids: ['e-fail'] }),
      step('compensated', {
        detail: { reason: '宛先不明のため配達できませんでした', refunded_amount: 2560 },
        event_ids: ['e-osf', 'e-refund', 'e-returned'],
      }),
      step('completed', { detail: { outcome: 'shipment_failed' } }),
    ]),
  );
  assert.deepEqual(s, {
    outcome: 'shipment_failed',
    compensated: true,
    refunded_amount: 2560,
    failure_reason: '宛先不明のため配達できませんでした',
    tracking_number: null,
    dispatched_by: null,
    event_count: 7,
  });
});

test('a shipped saga, a running one, an expired reservation and an outcome the SPA does not know', () => {
  const shipped = summarizeSaga(
    saga('completed', [
      step('dispatched', { detail: { tracking_number: 'SIM1-2', dispatched_by: 'carrier' } }),
      step('completed', { detail: { outcome: 'shipped' } }),
    ]),
  );
  assert.deepEqual(
    [shipped.outcome, shipped.compensated, shipped.tracking_number, shipped.dispatched_by, shipped.refunded_amount],
    ['shipped', false, 'SIM1-2', 'carrier', null],
  );
  const running = summarizeSaga(saga('running', [step('started'), step('shipment_requested')]));
  assert.deepEqual([running.outcome, running.compensated], [null, false]);
  const expired = summarizeSaga(
    saga('completed', [step('expired', { event_ids: ['a', 'b'] })], { saga_type: 'reservation_expiry', saga_id: 'o-2' }),
  );
  assert.deepEqual([expired.outcome, expired.event_count], ['expired', 2]);
  assert.equal(summarizeSaga(saga('completed', [step('completed', { detail: { outcome: 'teleported' } })])).outcome, null);
  // A paid order cancelled before dispatch: compensated by its refund, without a carrier failure.
  const cancelled = summarizeSaga(
    saga('compensated', [
      step('cancelled', { detail: { reason: '気が変わった' } }),
      step('compensated', { detail: { refunded_amount: 2000 } }),
      step('completed', { detail: { outcome: 'cancelled' } }),
    ]),
  );
  assert.deepEqual(
    [cancelled.outcome, cancelled.compensated, cancelled.refunded_amount, cancelled.failure_reason],
    ['cancelled', true, 2000, null],
  );
});

test("a saga's events are found in its order's, shipment's and inventories' streams, and link to the stream at their version", () => {
  assert.deepEqual(sagaStreams('o-1', ['p-1', 'p-2', 'p-1']), ['o-1', 'shipment-o-1', 'inventory-p-1', 'inventory-p-2']);
  const ev = (id: string, aggregate_id: string, event_type: string, version: number): StoredEvent => ({
    event_id: id,
    aggregate_id,
    aggregate_type: aggregate_id.startsWith('inventory-') ? 'Inventory' : 'Order',
    event_type,
    version,
    data: { secret: 'not copied' },
    metadata: {},
    created_at: '2026-01-01T00:00:00.000Z',
  });
  const index = indexEvents([
    { events: [ev('e-1', 'o-1', 'OrderPaid', 2)] },
    undefined,
    { events: [ev('e-9', 'inventory-p-1', 'StockReturned', 7)] },
  ]);
  assert.deepEqual([...index.keys()], ['e-1', 'e-9']);
  assert.equal(index.get('e-9')!.event_type, 'StockReturned');
  assert.equal('data' in index.get('e-1')!, false, 'a reference, not the event');
  assert.equal(eventHref(index.get('e-9')!), '/events/inventory-p-1?version=7');
});

test('step details are labelled values in Japanese, never a JSON dump; unknown keys keep their name', () => {
  const shown = stepDetails({
    refunded_amount: 2560,
    reason: '破損',
    dispatched_by: 'admin',
    outcome: 'shipment_failed',
    empty: '',
    gone: null,
    extra: { a: 1 },
  });
  assert.deepEqual(
    shown.map((d) => [d.label, d.value.replace(/\s/g, ' ')]),
    [
      ['返金額', '￥2,560'],
      ['理由', '破損'],
      ['出荷の記録', '管理者（手動）'],
      ['結果', '配送失敗（返金済み）'],
      ['extra', '{"a":1}'],
    ],
  );
});
