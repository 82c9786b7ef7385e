import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { InventoryState } from '../inventory/index.ts';
import { inventoryDecider } from '../inventory/index.ts';
import type { InventoryEvent } from '../inventory/index.ts';
import { orderDecider } from '../orders/index.ts';
import type { OrderEvent } from '../orders/index.ts';
import { fold } from '../../platform/shared/decider.ts';
import { catchAppError } from '../../../test/support/decider.ts';
import { shipmentDecider } from './decider.ts';
import type { ShipmentEvent } from './events.ts';
import { decideCarrierAnswer, decideHandOver, decideManualShipment, decideOpenShipment, decidePaidCancellation } from './fulfilment.ts';

const O = 'o-1';
const S = `shipment-${O}`;
const T0 = '2025-01-01T10:00:00.000Z';
const T1 = '2025-01-01T10:05:00.000Z';
const T2 = '2025-01-01T10:06:00.000Z';
const EXP = '2025-01-01T10:15:00.000Z';

const placed: OrderEvent = {
  type: 'OrderPlaced',
  data: {
    order_id: O,
    user_id: 'u-1',
    user_email: 'taro@example.com',
    items: [
      { product_id: 'p-1', name: 'Tシャツ', price: 2000, quantity: 2, subtotal: 4000 },
      { product_id: 'p-2', name: '靴下', price: 500, quantity: 1, subtotal: 500 },
    ],
    total: 4500,
    expires_at: EXP,
    placed_at: T0,
  },
};
const paid: OrderEvent = { type: 'OrderPaid', data: { order_id: O, amount: 4500, paid_at: T1 } };
const initiated: ShipmentEvent = { type: 'ShipmentInitiated', data: { shipment_id: S, order_id: O, initiated_at: T1 } };
const requested: ShipmentEvent = {
  type: 'ShipmentRequested',
  data: { shipment_id: S, order_id: O, carrier: 'simulated', carrier_reference: 'SIM-1', requested_at: T1 },
};

const orderOf = (events: OrderEvent[]) => fold(orderDecider, orderDecider.initialState(), events);
const shipmentOf = (events: ShipmentEvent[]) => fold(shipmentDecider, shipmentDecider.initialState(), events);
const stockOf = (productId: string, events: InventoryEvent[] = []): InventoryState =>
  fold(inventoryDecider, inventoryDecider.initialState(), [
    { type: 'StockAdded', data: { product_id: productId, quantity: 10, added_at: T0 } },
    ...events,
  ]);
const inventories = () =>
  new Map([
    ['p-1', stockOf('p-1')],
    ['p-2', stockOf('p-2')],
  ]);

/**
 * Runs a decision like spec() runs a decider: the inputs must come out unmutated and the events JSON-safe
 * (they are stored and published as JSON).
 */
function decided<I, R>(decide: (input: I) => R, input: I): R {
  const before = structuredClone(input);
  const result = decide(input);
  assert.deepStrictEqual(input, before, 'a decision must not mutate its input');
  const r = result as { order?: unknown[]; shipment?: unknown[]; inventories?: Map<string, unknown[]> };
  for (const events of [r.order ?? [], r.shipment ?? [], ...(r.inventories?.values() ?? [])]) {
    assert.deepStrictEqual(JSON.parse(JSON.stringify(events)), events, 'events must be JSON-safe');
  }
  return result;
}

describe('fulfilment: open the shipment of a paid order', () => {
  it('given a paid order without shipment, when the saga starts, then ShipmentInitiated', () => {
    const r = decided(decideOpenShipment, { order: orderOf([placed, paid]), shipment: shipmentOf([]), order_id: O, now: T1 });
    assert.deepEqual(r, { outcome: 'opened', shipment: [initiated] });
  });

  it('a redelivered OrderPaid finds the shipment open; an order no longer paid gets none', () => {
    assert.deepEqual(decideOpenShipment({ order: orderOf([placed, paid]), shipment: shipmentOf([initiated]), order_id: O, now: T2 }), {
      outcome: 'exists',
      shipment: [],
    });
    const cancelled: OrderEvent = {
      type: 'OrderCancelled',
      data: { order_id: O, reason: 'やめた', cancelled_by: 'customer', cancelled_at: T1 },
    };
    assert.deepEqual(decideOpenShipment({ order: orderOf([placed, paid, cancelled]), shipment: shipmentOf([]), order_id: O, now: T2 }), {
      outcome: 'not_paid',
      shipment: [],
    });
    catchAppError(() => decideOpenShipment({ order: orderOf([]), shipment: shipmentOf([]), order_id: O, now: T2 }), { kind: 'not_found' });
  });
});

describe('fulfilment: hand the shipment to the carrier', () => {
  const handOver = (orderEvents: OrderEvent[], shipmentEvents: ShipmentEvent[], reference = 'SIM-1') =>
    decided(decideHandOver, {
      order: orderOf(orderEvents),
      shipment: shipmentOf(shipmentEvents),
      order_id: O,
      carrier: 'simulated',
      carrier_reference: reference,
      now: T1,
    });

  it('records the carrier and its reference, once', () => {
    assert.deepEqual(handOver([placed, paid], [initiated]), { outcome: 'requested', shipment: [requested] });
    assert.deepEqual(handOver([placed, paid], [initiated, requested]), { outcome: 'already_requested', shipment: [] });
  });

  it('stops when the order was cancelled or shipped by hand while the carrier was being asked', () => {
    const cancelledShipment: ShipmentEvent = {
      type: 'ShipmentCancelled',
      data: { shipment_id: S, order_id: O, reason: 'x', cancelled_at: T1 },
    };
    assert.deepEqual(handOver([placed, paid], [initiated, cancelledShipment]), { outcome: 'stopped', shipment: [] });
    const shipped: OrderEvent = { type: 'OrderShipped', data: { order_id: O, tracking_number: 'BYHAND-1', shipped_at: T1 } };
    assert.deepEqual(handOver([placed, paid, shipped], [initiated]), { outcome: 'stopped', shipment: [] });
    catchAppError(() => handOver([placed, paid], []), { kind: 'not_found' });
  });
});

describe('fulfilment: the carrier answers', () => {
  const answer = (
    orderEvents: OrderEvent[],
    shipmentEvents: ShipmentEvent[],
    verdict: Parameters<typeof decideCarrierAnswer>[0]['verdict'],
  ) =>
    decided(decideCarrierAnswer, {
      order: orderOf(orderEvents),
      shipment: shipmentOf(shipmentEvents),
      inventories: inventories(),
      order_id: O,
      verdict,
      now: T2,
    });

  it('dispatched: the shipment completes and the order ships with the carrier tracking number, nothing else', () => {
    const r = answer([placed, paid], [initiated, requested], { kind: 'dispatched', tracking_number: 'SIM-TRK-42' });
    assert.equal(r.outcome, 'dispatched');
    assert.deepEqual(r.shipment, [
      {
        type: 'ShipmentCompleted',
        data: { shipment_id: S, order_id: O, tracking_number: 'SIM-TRK-42', completed_at: T2, dispatched_by: 'carrier' },
      },
    ]);
    assert.deepEqual(r.order, [{ type: 'OrderShipped', data: { order_id: O, tracking_number: 'SIM-TRK-42', shipped_at: T2 } }]);
    assert.equal(r.inventories.size, 0);
  });

  it('failed: compensation — shipment failed with the reason, order shipment_failed and refunded, every line returned', () => {
    const r = answer([placed, paid], [initiated, requested], { kind: 'failed', reason: '宛先不明' });
    assert.equal(r.outcome, 'compensated');
    assert.deepEqual(r.shipment, [{ type: 'ShipmentFailed', data: { shipment_id: S, order_id: O, reason: '宛先不明', failed_at: T2 } }]);
    assert.deepEqual(r.order, [
      { type: 'OrderShipmentFailed', data: { order_id: O, reason: '宛先不明', failed_at: T2 } },
      { type: 'OrderPaymentRefunded', data: { order_id: O, amount: 4500, reason: 'shipment_failed', refunded_at: T2 } },
    ]);
    assert.deepEqual(Object.fromEntries(r.inventories), {
      'p-1': [{ type: 'StockReturned', data: { product_id: 'p-1', order_id: O, quantity: 2, reason: 'shipment_failed', returned_at: T2 } }],
      'p-2': [{ type: 'StockReturned', data: { product_id: 'p-2', order_id: O, quantity: 1, reason: 'shipment_failed', returned_at: T2 } }],
    });
    // The compensated order folds to shipment_failed with its refund; the stock adds up again.
    const after = orderOf([placed, paid, ...r.order]);
    assert.deepEqual(after.status === 'shipment_failed' && [after.shipment_failure_reason, after.refund?.amount], ['宛先不明', 4500]);
  });

  it('the same answer again (a retried timer) is already recorded; a contradicting one is ignored', () => {
    const dispatched = answer([placed, paid], [initiated, requested], { kind: 'dispatched', tracking_number: 'SIM-TRK-42' });
    const orderAfter = [placed, paid, ...dispatched.order];
    const shipmentAfter = [initiated, requested, ...dispatched.shipment];
    assert.deepEqual(answer(orderAfter, shipmentAfter, { kind: 'dispatched', tracking_number: 'SIM-TRK-42' }).outcome, 'already_recorded');
    assert.deepEqual(answer(orderAfter, shipmentAfter, { kind: 'failed', reason: 'late' }).outcome, 'ignored');

    const failed = answer([placed, paid], [initiated, requested], { kind: 'failed', reason: '破損' });
    const failedOrder = [placed, paid, ...failed.order];
    const failedShipment = [initiated, requested, ...failed.shipment];
    const again = answer(failedOrder, failedShipment, { kind: 'failed', reason: '破損' });
    assert.deepEqual(
      [again.outcome, again.order, again.shipment, again.inventories.size],
      ['already_recorded', [], [], 0],
      'never compensates twice',
    );
    assert.equal(answer(failedOrder, failedShipment, { kind: 'dispatched', tracking_number: 'X-1' }).outcome, 'ignored');
  });

  it('after a manual ship by an admin the carrier answer changes nothing, whatever it says', () => {
    const manual = decided(decideManualShipment, {
      order: orderOf([placed, paid]),
      shipment: shipmentOf([initiated, requested]),
      order_id: O,
      tracking_number: 'BYHAND-1',
      now: T2,
    });
    const orderAfter = [placed, paid, ...manual.order];
    const shipmentAfter = [initiated, requested, ...manual.shipment];
    for (const verdict of [
      { kind: 'dispatched', tracking_number: 'BYHAND-1' },
      { kind: 'failed', reason: 'lost' },
    ] as const) {
      const r = answer(orderAfter, shipmentAfter, verdict);
      assert.deepEqual([r.outcome, r.why, r.order, r.shipment], ['ignored', 'already dispatched by an admin', [], []]);
    }
  });

  it('after a cancel before dispatch the carrier answer changes nothing', () => {
    const cancel = decided(decidePaidCancellation, {
      order: orderOf([placed, paid]),
      shipment: shipmentOf([initiated, requested]),
      inventories: inventories(),
      order_id: O,
      reason: '気が変わった',
      cancelled_by: 'customer',
      now: T2,
    });
    const r = answer([placed, paid, ...cancel.order], [initiated, requested, ...cancel.shipment], {
      kind: 'dispatched',
      tracking_number: 'SIM-1',
    });
    assert.deepEqual([r.outcome, r.why, r.order.length, r.shipment.length], ['ignored', 'the order was cancelled before dispatch', 0, 0]);
  });
});

describe('fulfilment: cancel of a paid order before dispatch', () => {
  const cancel = (shipmentEvents: ShipmentEvent[], orderEvents: OrderEvent[] = [placed, paid]) =>
    decided(decidePaidCancellation, {
      order: orderOf(orderEvents),
      shipment: shipmentOf(shipmentEvents),
      inventories: inventories(),
      order_id: O,
      reason: ' 気が変わった ',
      cancelled_by: 'customer',
      now: T2,
    });

  it('cancels, refunds, returns every line and cancels the open shipment in one decision', () => {
    const r = cancel([initiated, requested]);
    assert.deepEqual(r.order, [
      { type: 'OrderCancelled', data: { order_id: O, reason: '気が変わった', cancelled_by: 'customer', cancelled_at: T2 } },
      { type: 'OrderPaymentRefunded', data: { order_id: O, amount: 4500, reason: 'cancelled', refunded_at: T2 } },
    ]);
    assert.deepEqual(r.shipment, [
      { type: 'ShipmentCancelled', data: { shipment_id: S, order_id: O, reason: 'order cancelled before dispatch', cancelled_at: T2 } },
    ]);
    assert.deepEqual(
      [...r.inventories].map(([p, e]) => [
        p,
        e.map((x) => [x.type, x.type === 'StockReturned' && x.data.quantity, x.type === 'StockReturned' && x.data.reason]),
      ]),
      [
        ['p-1', [['StockReturned', 2, 'cancelled']]],
        ['p-2', [['StockReturned', 1, 'cancelled']]],
      ],
    );
  });

  it('with no shipment opened yet: no shipment event (the caller guards the shipment stream)', () => {
    assert.deepEqual(cancel([]).shipment, []);
  });

  it('refuses once dispatched: a shipped order cannot be cancelled', () => {
    const shipped: OrderEvent = { type: 'OrderShipped', data: { order_id: O, tracking_number: 'T-1', shipped_at: T1 } };
    catchAppError(() => cancel([initiated], [placed, paid, shipped]), {
      code: 'illegal_transition',
      message: 'cannot cancel an order that is shipped',
    });
  });
});

describe('fulfilment: manual ship by an admin', () => {
  const ship = (orderEvents: OrderEvent[], shipmentEvents: ShipmentEvent[]) =>
    decided(decideManualShipment, {
      order: orderOf(orderEvents),
      shipment: shipmentOf(shipmentEvents),
      order_id: O,
      tracking_number: 'BYHAND-1',
      now: T2,
    });
  const completedByAdmin: ShipmentEvent = {
    type: 'ShipmentCompleted',
    data: { shipment_id: S, order_id: O, tracking_number: 'BYHAND-1', completed_at: T2, dispatched_by: 'admin' },
  };

  it('ships the order and completes the open shipment as dispatched by an admin', () => {
    const r = ship([placed, paid], [initiated, requested]);
    assert.deepEqual(r.order, [{ type: 'OrderShipped', data: { order_id: O, tracking_number: 'BYHAND-1', shipped_at: T2 } }]);
    assert.deepEqual(r.shipment, [completedByAdmin]);
  });

  it('opens the shipment first when the saga had not yet', () => {
    assert.deepEqual(ship([placed, paid], []).shipment, [
      { type: 'ShipmentInitiated', data: { shipment_id: S, order_id: O, initiated_at: T2 } },
      completedByAdmin,
    ]);
  });

  it('a failed or cancelled order cannot be shipped (409)', () => {
    const failed: OrderEvent = { type: 'OrderShipmentFailed', data: { order_id: O, reason: 'lost', failed_at: T1 } };
    catchAppError(() => ship([placed, paid, failed], [initiated]), {
      kind: 'conflict',
      message: 'cannot ship an order that is shipment_failed',
    });
    const cancelled: OrderEvent = {
      type: 'OrderCancelled',
      data: { order_id: O, reason: 'x', cancelled_by: 'customer', cancelled_at: T1 },
    };
    catchAppError(() => ship([placed, paid, cancelled], []), { kind: 'conflict', message: 'cannot ship an order that is cancelled' });
    catchAppError(() => ship([placed], []), { message: 'cannot ship an order that is pending' });
  });
});
