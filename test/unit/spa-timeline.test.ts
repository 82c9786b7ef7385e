import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Fulfilment, Order, StoredEvent } from '../../web/src/api/types.ts';
import { canShipByHand, fulfilmentStages, orderTimeline, sagaBehind } from '../../web/src/lib/timeline.ts';

const T = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();

function order(over: Partial<Order> = {}): Order {
  return {
    order_id: 'o-1',
    user_id: 'u-1',
    user_email: 'u@example.com',
    items: [{ product_id: 'p-1', name: '抹茶', price: 1280, quantity: 2, subtotal: 2560 }],
    total: 2560,
    status: 'pending',
    reason: null,
    cancelled_by: null,
    tracking_number: null,
    expires_at: T(900),
    placed_at: T(0),
    paid_at: null,
    shipped_at: null,
    delivered_at: null,
    cancelled_at: null,
    shipment_failed_at: null,
    refunded_amount: null,
    refunded_at: null,
    updated_at: T(0),
    version: 1,
    shipment: null,
    fulfilment: null,
    ...over,
  };
}

const fulfilment = (
  status: Fulfilment['status'],
  steps: Array<[string, number, ('completed' | 'failed' | 'skipped')?]>,
  over: Partial<Fulfilment> = {},
): Fulfilment => ({
  saga_id: 'fulfilment-o-1',
  status,
  shipment_id: 'shipment-o-1',
  carrier: 'simulated',
  tracking_number: null,
  failure_reason: null,
  steps: steps.map(([step, s, st]) => ({ step, status: st ?? 'completed', at: T(s) })),
  ...over,
});

const event = (type: string, version: number, s: number, data: Record<string, unknown> = {}): StoredEvent => ({
  event_id: `e-${version}`,
  aggregate_id: 'o-1',
  aggregate_type: 'Order',
  event_type: type,
  version,
  data,
  metadata: {},
  created_at: T(s),
});

test('a failed shipment tells its story in order: events and saga steps interleaved, with the reason and the refund', () => {
  const o = order({
    status: 'shipment_failed',
    paid_at: T(1),
    refunded_amount: 2560,
    refunded_at: T(3),
    fulfilment: fulfilment(
      'compensated',
      [
        ['started', 1],
        ['shipment_opened', 1],
        ['shipment_requested', 2],
        ['failed', 3, 'failed'],
        ['compensated', 3],
        ['completed', 3],
      ],
      { failure_reason: '宛先不明' },
    ),
  });
  const events = [
    event('OrderPlaced', 1, 0, { total: 2560 }),
    event('OrderPaid', 2, 1, { amount: 2560 }),
    event('OrderShipmentFailed', 3, 3, { reason: '宛先不明' }),
    event('OrderPaymentRefunded', 4, 3, { amount: 2560 }),
  ];
  const timeline = orderTimeline(o, events);
  assert.deepEqual(
    timeline.map((e) => e.code),
    [
      'OrderPlaced v1',
      'OrderPaid v2',
      'started',
      'shipment_opened',
      'shipment_requested',
      'failed',
      'OrderShipmentFailed v3',
      'OrderPaymentRefunded v4',
      'compensated',
      'completed',
    ],
  );
  const byCode = new Map(timeline.map((e) => [e.code, e]));
  assert.equal(byCode.get('OrderPaymentRefunded v4')!.title, '返金');
  assert.match(byCode.get('OrderPaymentRefunded v4')!.detail!, /2,560 を返金/);
  assert.equal(byCode.get('OrderShipmentFailed v3')!.href, '/events/o-1?version=3');
  assert.equal(byCode.get('failed')!.status, 'failed');
  assert.equal(byCode.get('failed')!.detail, '宛先不明');
  assert.match(byCode.get('compensated')!.detail!, /2,560 を返金、在庫を戻しました/);
  assert.equal(byCode.get('shipment_requested')!.detail, '配送業者: simulated');
  assert.ok(
    timeline.every((e) => (e.kind === 'event') === !!e.href),
    'events link to their stream; steps do not',
  );
});

test("the saga's record lags the order until its steps are in: paid without a carrier request, shipped or failed without an end", () => {
  assert.equal(sagaBehind(order()), false, 'a pending order has no saga yet');
  assert.equal(sagaBehind(order({ status: 'paid', paid_at: T(1) })), true);
  assert.equal(sagaBehind(order({ status: 'paid', paid_at: T(1), fulfilment: fulfilment('running', [['started', 1]]) })), true);
  assert.equal(
    sagaBehind(
      order({
        status: 'paid',
        paid_at: T(1),
        fulfilment: fulfilment('running', [
          ['started', 1],
          ['shipment_requested', 2],
        ]),
      }),
    ),
    false,
  );
  assert.equal(
    sagaBehind(
      order({
        status: 'shipped',
        fulfilment: fulfilment('running', [
          ['started', 1],
          ['shipment_requested', 2],
        ]),
      }),
    ),
    true,
  );
  assert.equal(
    sagaBehind(
      order({
        status: 'shipped',
        fulfilment: fulfilment('completed', [
          ['dispatched', 3],
          ['completed', 3],
        ]),
      }),
    ),
    false,
  );
  assert.equal(
    sagaBehind(
      order({
        status: 'shipment_failed',
        fulfilment: fulfilment('compensated', [
          ['failed', 3, 'failed'],
          ['compensated', 3],
        ]),
      }),
    ),
    true,
  );
  assert.equal(sagaBehind(order({ status: 'cancelled', paid_at: null })), false, 'an unpaid cancel has no saga');
  assert.equal(sagaBehind(order({ status: 'cancelled', paid_at: T(1), fulfilment: fulfilment('running', [['cancelled', 2]]) })), true);
  assert.equal(sagaBehind(order({ status: 'delivered' })), false);
});

test('the progress line: where the order stands, and how a failure or a cancel ends it', () => {
  const line = (o: Order) =>
    fulfilmentStages(o)
      .map((s) => `${s.key}:${s.state}`)
      .join(' ');
  assert.equal(line(order()), 'placed:done paid:current requested:todo shipped:todo delivered:todo');
  assert.equal(line(order({ status: 'paid', paid_at: T(1) })), 'placed:done paid:done requested:current shipped:todo delivered:todo');
  assert.equal(
    line(order({ status: 'paid', paid_at: T(1), fulfilment: fulfilment('running', [['shipment_requested', 2]]) })),
    'placed:done paid:done requested:done shipped:current delivered:todo',
  );
  assert.equal(
    line(order({ status: 'shipped', paid_at: T(1), fulfilment: fulfilment('completed', [['dispatched', 3]]) })),
    'placed:done paid:done requested:done shipped:done delivered:current',
  );
  assert.equal(
    line(
      order({
        status: 'shipment_failed',
        paid_at: T(1),
        refunded_amount: 2560,
        fulfilment: fulfilment('compensated', [['failed', 3, 'failed']]),
      }),
    ),
    'placed:done paid:done requested:done failed:failed refunded:done',
  );
  assert.equal(line(order({ status: 'cancelled' })), 'placed:done paid:todo cancelled:failed');
});

test('manual shipping is offered only for a paid order whose shipment is not dispatched, failed or cancelled', () => {
  const shipment = (status: NonNullable<Order['shipment']>['status']) =>
    ({
      shipment_id: 's',
      status,
      tracking_number: null,
      reason: null,
      initiated_at: null,
      completed_at: null,
      failed_at: null,
      version: 1,
      carrier: null,
      carrier_reference: null,
      requested_at: null,
      dispatched_by: null,
      cancelled_at: null,
    }) as const;
  assert.equal(canShipByHand(order({ status: 'paid' })), true);
  assert.equal(canShipByHand(order({ status: 'paid', shipment: shipment('initiated') })), true);
  for (const s of ['completed', 'failed', 'cancelled'] as const)
    assert.equal(canShipByHand(order({ status: 'paid', shipment: shipment(s) })), false, s);
  for (const s of ['pending', 'shipped', 'delivered', 'cancelled', 'shipment_failed'] as const)
    assert.equal(canShipByHand(order({ status: s })), false, s);
});
