import assert from 'node:assert/strict';
import { test } from 'node:test';
import { STREAM_PROJECTIONS } from '../composition/projections/registry.ts';
import * as marketing from '../contexts/reporting/marketing.ts';
import type { EventEnvelope } from '../platform/shared/envelope.ts';
import { generateShop } from './seed.ts';

const all = (events: number, seed = 7) =>
  [...generateShop({ events, seed, prefix: 'seed-t', startMs: Date.parse('2026-01-01T00:00:00Z') })].flat();

test('the seed makes about the events asked for, in whole streams with contiguous versions and rising timestamps', () => {
  const events = all(3000);
  assert.ok(events.length >= 3000 && events.length < 3600, `${events.length}`);
  const byStream = new Map<string, EventEnvelope[]>();
  for (const e of events) byStream.set(e.aggregate_id, [...(byStream.get(e.aggregate_id) ?? []), e]);
  for (const [id, stream] of byStream) {
    assert.deepEqual(
      stream.map((e) => e.version),
      stream.map((_, i) => i + 1),
      id,
    );
    for (let i = 1; i < stream.length; i++) assert.ok(stream[i]!.created_at >= stream[i - 1]!.created_at, id);
  }
  assert.equal(new Set(events.map((e) => e.event_id)).size, events.length);
  // Every event is one the read side projects.
  const known = new Set([...STREAM_PROJECTIONS.flatMap((p) => p.eventTypes), ...marketing.eventTypes, 'OrderPaymentRefunded']);
  for (const e of events) assert.ok(known.has(e.event_type), e.event_type);
  for (const type of [
    'OrderPlaced',
    'OrderPaid',
    'OrderCancelled',
    'OrderShipmentFailed',
    'OrderDelivered',
    'ShipmentCompleted',
    'StockReleased',
    'ItemRemovedFromCart',
  ]) {
    assert.ok(
      events.some((e) => e.event_type === type),
      `the history has ${type}`,
    );
  }
});

test('the seed is consistent across streams: totals, payments, reservations settle, stock never negative', () => {
  const events = all(5000);
  const orders = new Map<string, { total: number; items: Array<{ price: number; quantity: number; subtotal: number }> }>();
  const held = new Map<string, number>();
  const stock = new Map<string, number>();
  for (const e of events) {
    const d = e.data as Record<string, unknown>;
    if (e.event_type === 'OrderPlaced') {
      const o = d as unknown as { order_id: string; total: number; items: Array<{ price: number; quantity: number; subtotal: number }> };
      for (const i of o.items) assert.equal(i.subtotal, i.price * i.quantity);
      assert.equal(
        o.total,
        o.items.reduce((n, i) => n + i.subtotal, 0),
      );
      assert.ok(o.items.length > 0);
      orders.set(o.order_id, o);
    }
    if (e.event_type === 'OrderPaid')
      assert.equal((d as unknown as { amount: number }).amount, orders.get((d as unknown as { order_id: string }).order_id)!.total);
    const r = d as unknown as { reservation_id: string; quantity: number; product_id: string };
    if (e.event_type === 'StockAdded') stock.set(r.product_id, (stock.get(r.product_id) ?? 0) + r.quantity);
    if (e.event_type === 'StockReserved') held.set(r.reservation_id, r.quantity);
    if (e.event_type === 'StockReleased' || e.event_type === 'StockDeducted') {
      assert.equal(held.get(r.reservation_id), r.quantity, 'settles a reservation it made');
      held.delete(r.reservation_id);
    }
    if (e.event_type === 'StockDeducted') stock.set(r.product_id, stock.get(r.product_id)! - r.quantity);
  }
  for (const [, n] of stock) assert.ok(n >= 0);
});

test('the same seed and prefix make the same history (event ids aside)', () => {
  const strip = (es: EventEnvelope[]) => es.map(({ event_id: _, ...rest }) => rest);
  assert.deepEqual(strip(all(500, 3)), strip(all(500, 3)));
  assert.notDeepEqual(strip(all(500, 3)), strip(all(500, 4)));
});
