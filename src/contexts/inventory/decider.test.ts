import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fold } from '../../platform/shared/decider.ts';
import { spec } from '../../../test/support/decider.ts';
import type { InventoryCommand, InventoryState } from './decider.ts';
import { CLOSED_RESERVATION_MEMORY, findReservationByOrder, inventoryDecider } from './decider.ts';
import type { InventoryEvent, StockAdded, StockDeducted, StockReleased, StockReserved } from './events.ts';
import { inventoryStreamId, isInventoryEventType } from './events.ts';
import { fromSnapshot, toSnapshot } from './snapshot.ts';

const P = 'p-1';
const T0 = '2025-01-01T10:00:00.000Z';
const T1 = '2025-01-01T10:05:00.000Z';
const EXP = '2025-01-01T10:15:00.000Z';
const T2 = '2025-01-01T10:20:00.000Z';

const added = (quantity: number): StockAdded => ({ type: 'StockAdded', data: { product_id: P, quantity, added_at: T0 } });
const reserved = (order: string, quantity: number): StockReserved => ({
  type: 'StockReserved',
  data: { product_id: P, reservation_id: `r-${order}`, order_id: order, quantity, expires_at: EXP, reserved_at: T0 },
});
const deducted = (order: string, quantity: number): StockDeducted => ({
  type: 'StockDeducted',
  data: { product_id: P, reservation_id: `r-${order}`, order_id: order, quantity, deducted_at: T1 },
});
const released = (order: string, quantity: number, reason: StockReleased['data']['reason'] = 'cancelled', at = T1): StockReleased => ({
  type: 'StockReleased',
  data: { product_id: P, reservation_id: `r-${order}`, order_id: order, quantity, reason, released_at: at },
});

const addStock = (quantity: number): InventoryCommand => ({ type: 'AddStock', product_id: P, quantity, now: T0 });
const reserve = (order: string, quantity: number, over: Partial<InventoryCommand> = {}): InventoryCommand =>
  ({
    type: 'ReserveStock',
    product_id: P,
    reservation_id: `r-${order}`,
    order_id: order,
    quantity,
    expires_at: EXP,
    now: T0,
    ...over,
  }) as InventoryCommand;
const confirm = (order: string): InventoryCommand => ({ type: 'ConfirmReservation', product_id: P, order_id: order, now: T1 });
const release = (order: string, reason: StockReleased['data']['reason'] = 'cancelled', now = T1): InventoryCommand => ({
  type: 'ReleaseReservation',
  product_id: P,
  order_id: order,
  reason,
  now,
});

const stateOf = (events: InventoryEvent[]): InventoryState => fold(inventoryDecider, inventoryDecider.initialState(), events);

describe('Inventory: AddStock', () => {
  it('adds stock', () => {
    spec(inventoryDecider)
      .given([])
      .when(addStock(100))
      .then([added(100)]);
    spec(inventoryDecider)
      .given([added(5), reserved('o-1', 5)])
      .when(addStock(1))
      .then([added(1)]);
  });

  it('accepts 1..1,000,000 integers only', () => {
    spec(inventoryDecider)
      .given([])
      .when(addStock(1))
      .then([added(1)]);
    spec(inventoryDecider)
      .given([])
      .when(addStock(1_000_000))
      .then([added(1_000_000)]);
    for (const q of [0, -1, 1_000_001, 2.5, Number.NaN]) {
      spec(inventoryDecider)
        .given([])
        .when(addStock(q))
        .thenThrows((e) => e.kind === 'validation' && e.errors?.[0]?.field === 'quantity');
    }
  });

  it('validates the product id', () => {
    spec(inventoryDecider).given([]).when({ type: 'AddStock', product_id: '', quantity: 1, now: T0 }).thenThrows('validation_failed');
  });
});

describe('Inventory: ReserveStock', () => {
  it('reserves available stock, up to exactly what is available', () => {
    spec(inventoryDecider)
      .given([added(3)])
      .when(reserve('o-1', 2))
      .then([reserved('o-1', 2)]);
    spec(inventoryDecider)
      .given([added(3), reserved('o-1', 2)])
      .when(reserve('o-2', 1))
      .then([reserved('o-2', 1)]);
  });

  it('refuses more than available with the exact message and details', () => {
    const err = spec(inventoryDecider)
      .given([added(3), reserved('o-1', 2)])
      .when(reserve('o-2', 2))
      .thenThrows({ kind: 'conflict', code: 'insufficient_stock', message: 'insufficient stock: available=1, requested=2' });
    assert.deepEqual(err.extra, { product_id: P, available: 1, requested: 2 });
  });

  it('refuses on an empty inventory', () => {
    spec(inventoryDecider).given([]).when(reserve('o-1', 1)).thenThrows({ message: 'insufficient stock: available=0, requested=1' });
  });

  it('counts released stock as available again and deducted stock as gone', () => {
    spec(inventoryDecider)
      .given([added(2), reserved('o-1', 2), released('o-1', 2)])
      .when(reserve('o-2', 2))
      .then([reserved('o-2', 2)]);
    spec(inventoryDecider)
      .given([added(2), reserved('o-1', 2), deducted('o-1', 2)])
      .when(reserve('o-2', 1))
      .thenThrows({ message: 'insufficient stock: available=0, requested=1' });
  });

  it('refuses a second reservation for the same order or with the same id, open or closed', () => {
    spec(inventoryDecider)
      .given([added(10), reserved('o-1', 1)])
      .when(reserve('o-1', 1, { reservation_id: 'r-x' }))
      .thenThrows('reservation_exists');
    spec(inventoryDecider)
      .given([added(10), reserved('o-1', 1)])
      .when(reserve('o-2', 1, { reservation_id: 'r-o-1' }))
      .thenThrows('reservation_exists');
    spec(inventoryDecider)
      .given([added(10), reserved('o-1', 1), released('o-1', 1)])
      .when(reserve('o-1', 1))
      .thenThrows('reservation_exists');
  });

  it('validates quantity, ids and expiry (must be an instant after now)', () => {
    for (const q of [0, 1.5, 1_000_001]) {
      spec(inventoryDecider)
        .given([added(10)])
        .when(reserve('o-1', q))
        .thenThrows((e) => e.errors?.[0]?.field === 'quantity');
    }
    for (const expires_at of ['soon', '2025-01-01', T0, '2025-01-01T09:00:00Z']) {
      spec(inventoryDecider)
        .given([added(10)])
        .when(reserve('o-1', 1, { expires_at }))
        .thenThrows((e) => e.errors?.[0]?.field === 'expires_at');
    }
    spec(inventoryDecider)
      .given([added(10)])
      .when(reserve('o-1', 1, { order_id: 'has space' }))
      .thenThrows((e) => e.errors?.[0]?.field === 'order_id');
  });
});

describe('Inventory: ConfirmReservation', () => {
  it('deducts the reserved quantity of the order', () => {
    spec(inventoryDecider)
      .given([added(5), reserved('o-1', 2), reserved('o-2', 1)])
      .when(confirm('o-1'))
      .then([deducted('o-1', 2)]);
  });

  it('is a no-op when already confirmed', () => {
    spec(inventoryDecider)
      .given([added(5), reserved('o-1', 2), deducted('o-1', 2)])
      .when(confirm('o-1'))
      .then([]);
  });

  it('refuses an unknown reservation', () => {
    const err = spec(inventoryDecider)
      .given([added(5)])
      .when(confirm('o-9'))
      .thenThrows({ kind: 'conflict', code: 'reservation_not_found' });
    assert.deepEqual(err.extra, { product_id: P, order_id: 'o-9' });
  });

  it('refuses a released reservation', () => {
    spec(inventoryDecider)
      .given([added(5), reserved('o-1', 2), released('o-1', 2)])
      .when(confirm('o-1'))
      .thenThrows({ kind: 'conflict', code: 'reservation_released' });
  });
});

describe('Inventory: ReleaseReservation', () => {
  it('releases for each reason', () => {
    spec(inventoryDecider)
      .given([added(5), reserved('o-1', 2)])
      .when(release('o-1'))
      .then([released('o-1', 2)]);
    spec(inventoryDecider)
      .given([added(5), reserved('o-1', 2)])
      .when(release('o-1', 'shipment_failed'))
      .then([released('o-1', 2, 'shipment_failed')]);
    spec(inventoryDecider)
      .given([added(5), reserved('o-1', 2)])
      .when(release('o-1', 'expired', T2))
      .then([released('o-1', 2, 'expired', T2)]);
  });

  it('releases as expired from the expiry instant on, never before', () => {
    spec(inventoryDecider)
      .given([added(5), reserved('o-1', 2)])
      .when(release('o-1', 'expired', EXP))
      .then([released('o-1', 2, 'expired', EXP)]);
    spec(inventoryDecider)
      .given([added(5), reserved('o-1', 2)])
      .when(release('o-1', 'expired', T1))
      .thenThrows({ kind: 'conflict', code: 'reservation_not_expired' });
  });

  it('is a no-op when already released or confirmed', () => {
    spec(inventoryDecider)
      .given([added(5), reserved('o-1', 2), released('o-1', 2)])
      .when(release('o-1'))
      .then([]);
    spec(inventoryDecider)
      .given([added(5), reserved('o-1', 2), deducted('o-1', 2)])
      .when(release('o-1', 'shipment_failed'))
      .then([]);
  });

  it('refuses an unknown reservation and an unknown reason', () => {
    spec(inventoryDecider)
      .given([added(5)])
      .when(release('o-1'))
      .thenThrows('reservation_not_found');
    spec(inventoryDecider)
      .given([added(5), reserved('o-1', 2)])
      .when(release('o-1', 'lost' as never))
      .thenThrows((e) => e.errors?.[0]?.field === 'reason');
  });
});

describe('Inventory: state', () => {
  it('derives total, reserved, available and the open reservations', () => {
    const s = stateOf([
      added(10),
      reserved('o-1', 2),
      reserved('o-2', 3),
      deducted('o-1', 2),
      added(1),
      reserved('o-3', 1),
      released('o-2', 3),
    ]);
    assert.deepEqual(s, {
      product_id: P,
      total_quantity: 9,
      reserved_quantity: 1,
      available_quantity: 8,
      reservations: [{ reservation_id: 'r-o-3', order_id: 'o-3', quantity: 1, expires_at: EXP, reserved_at: T0 }],
      recently_closed: [
        { reservation_id: 'r-o-1', order_id: 'o-1', quantity: 2, outcome: 'deducted' },
        { reservation_id: 'r-o-2', order_id: 'o-2', quantity: 3, outcome: 'released' },
      ],
    });
    assert.equal(findReservationByOrder(s, 'o-3')?.reservation_id, 'r-o-3');
    assert.equal(findReservationByOrder(s, 'o-1'), undefined);
  });

  it('remembers only the last CLOSED_RESERVATION_MEMORY closed reservations', () => {
    const events: InventoryEvent[] = [added(CLOSED_RESERVATION_MEMORY + 10)];
    for (let i = 0; i < CLOSED_RESERVATION_MEMORY + 10; i++) events.push(reserved(`o-${i}`, 1), deducted(`o-${i}`, 1));
    const s = stateOf(events);
    assert.equal(s.recently_closed.length, CLOSED_RESERVATION_MEMORY);
    assert.equal(s.recently_closed[0]?.order_id, 'o-10');
    spec(inventoryDecider)
      .given(events)
      .when(confirm(`o-${CLOSED_RESERVATION_MEMORY + 9}`))
      .then([]);
    spec(inventoryDecider).given(events).when(confirm('o-9')).thenThrows('reservation_not_found');
  });

  it('uses a stream id distinct from the product stream and knows its event names', () => {
    assert.equal(inventoryStreamId('p-1'), 'inventory-p-1');
    assert.equal(isInventoryEventType('StockReserved'), true);
    assert.equal(isInventoryEventType('ProductCreated'), false);
    const data: Record<string, unknown> = added(1).data; // event data fits the event store's NewEvent.data
    assert.ok(data);
  });
});

/** A realistic long stream, produced by the decider itself: restocks, reservations, confirmations, releases. */
const longStream = (n: number): InventoryEvent[] => {
  let seed = 42;
  const rand = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const events: InventoryEvent[] = [];
  let state = inventoryDecider.initialState();
  let order = 0;
  const apply = (command: InventoryCommand) => {
    const produced = inventoryDecider.decide(command, state);
    state = fold(inventoryDecider, state, produced);
    events.push(...produced);
  };
  while (events.length < n) {
    const r = rand();
    const open = state.reservations;
    if (r < 0.1 || state.available_quantity < 5) apply(addStock(1 + Math.floor(rand() * 50)));
    else if (r < 0.55 || open.length === 0) apply(reserve(`o-${order++}`, 1 + Math.floor(rand() * 4)));
    else {
      const victim = open[Math.floor(rand() * open.length)];
      if (!victim) continue;
      if (r < 0.8) apply(confirm(victim.order_id));
      else apply(release(victim.order_id, r < 0.9 ? 'cancelled' : 'expired', T2));
    }
  }
  return events.slice(0, n);
};

describe('Inventory: long streams and snapshots', () => {
  const events = longStream(5000);
  const full = stateOf(events);

  it('folds 5,000 events quickly and consistently', () => {
    const started = performance.now();
    const again = stateOf(events);
    const ms = performance.now() - started;
    assert.deepEqual(again, full);
    assert.ok(ms < 1000, `folding 5,000 events took ${ms.toFixed(1)} ms`);
    assert.equal(
      full.reserved_quantity,
      full.reservations.reduce((s, r) => s + r.quantity, 0),
    );
    assert.equal(full.available_quantity, full.total_quantity - full.reserved_quantity);
    assert.ok(full.available_quantity >= 0);
    assert.ok(full.recently_closed.length > 0 && full.reservations.length > 0, 'the stream exercises every event type');
  });

  it('snapshot (through JSON) + tail equals a full replay, wherever the snapshot is taken', () => {
    for (const at of [0, 1, 17, 2500, 4999, 5000]) {
      const snap = JSON.parse(JSON.stringify(toSnapshot(stateOf(events.slice(0, at)))));
      const restored = fromSnapshot(snap);
      assert.ok(restored, `snapshot at ${at} restores`);
      assert.deepEqual(fold(inventoryDecider, restored, events.slice(at)), full, `snapshot at ${at}`);
    }
  });

  it('decides the same from a restored snapshot as from a replay', () => {
    const restored = fromSnapshot(JSON.parse(JSON.stringify(toSnapshot(full))));
    assert.ok(restored);
    const command = reserve('o-new', full.available_quantity + 1);
    assert.throws(() => inventoryDecider.decide(command, restored), {
      message: `insufficient stock: available=${full.available_quantity}, requested=${full.available_quantity + 1}`,
    });
    const open = full.reservations[0];
    assert.ok(open);
    assert.deepEqual(inventoryDecider.decide(confirm(open.order_id), restored), inventoryDecider.decide(confirm(open.order_id), full));
  });

  it('rejects snapshots it does not recognise, so the caller replays instead', () => {
    const good = toSnapshot(full);
    const bad: unknown[] = [
      null,
      'x',
      [],
      { ...good, total_quantity: -1 },
      { ...good, total_quantity: 1.5 },
      { ...good, product_id: 7 },
      { ...good, reservations: 'none' },
      { ...good, reservations: [{ reservation_id: 'r', order_id: 'o', quantity: 1 }] },
      { ...good, recently_closed: [{ reservation_id: 'r', order_id: 'o', quantity: 1, outcome: 'lost' }] },
      { ...good, total_quantity: 0, reservations: [{ reservation_id: 'r', order_id: 'o', quantity: 1, expires_at: EXP, reserved_at: T0 }] },
    ];
    for (const json of bad) assert.equal(fromSnapshot(json), undefined, JSON.stringify(json)?.slice(0, 80));
    assert.deepEqual(fromSnapshot(toSnapshot(inventoryDecider.initialState())), inventoryDecider.initialState());
  });

  it('keeps the snapshot small enough for one DynamoDB item', () => {
    assert.ok(JSON.stringify(toSnapshot(full)).length < 200_000);
  });
});

describe('Inventory: ReturnStock (goods of a paid order come back)', () => {
  const returnStock = (
    quantity: number,
    reason: 'cancelled' | 'shipment_failed' = 'shipment_failed',
  ): Extract<InventoryCommand, { type: 'ReturnStock' }> => ({
    type: 'ReturnStock',
    product_id: P,
    order_id: 'o-1',
    quantity,
    reason,
    now: T2,
  });
  const returned = (quantity: number, reason: 'cancelled' | 'shipment_failed' = 'shipment_failed'): InventoryEvent => ({
    type: 'StockReturned',
    data: { product_id: P, order_id: 'o-1', quantity, reason, returned_at: T2 },
  });

  it('puts the deducted units back on the shelf: total and available rise, reservations untouched', () => {
    const history = [added(5), reserved('o-1', 3), deducted('o-1', 3), reserved('o-2', 1)];
    spec(inventoryDecider)
      .given(history)
      .when(returnStock(3))
      .then([returned(3)]);
    const after = fold(inventoryDecider, inventoryDecider.initialState(), [...history, returned(3)]);
    assert.deepEqual(
      [after.total_quantity, after.reserved_quantity, after.available_quantity, after.reservations.map((r) => r.order_id)],
      [5, 1, 4, ['o-2']],
    );
  });

  it('works after the reservation fell out of the closed-reservation memory (the order stream is the guard)', () => {
    const history: InventoryEvent[] = [added(CLOSED_RESERVATION_MEMORY + 10), reserved('o-1', 2), deducted('o-1', 2)];
    for (let i = 0; i < CLOSED_RESERVATION_MEMORY + 1; i++) history.push(reserved(`x-${i}`, 1), deducted(`x-${i}`, 1));
    spec(inventoryDecider)
      .given(history)
      .when(returnStock(2, 'cancelled'))
      .then([returned(2, 'cancelled')]);
  });

  it('validates quantity, ids and the reason', () => {
    spec(inventoryDecider)
      .given([])
      .when(returnStock(0))
      .thenThrows((e) => e.errors?.[0]?.field === 'quantity');
    spec(inventoryDecider)
      .given([])
      .when({ ...returnStock(1), order_id: '' })
      .thenThrows((e) => e.errors?.[0]?.field === 'order_id');
    spec(inventoryDecider)
      .given([])
      .when({ ...returnStock(1), reason: 'expired' as never })
      .thenThrows((e) => e.errors?.[0]?.field === 'reason');
    assert.equal(isInventoryEventType('StockReturned'), true);
  });
});
