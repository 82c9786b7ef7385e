import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { createContractRegistry, createdAt, defineEvent, EventDataError, f, fillMissing } from './contract.ts';
import type { EventEnvelope } from './envelope.ts';

const envelope = (data: Record<string, unknown>, schema_version = 1, event_type = 'GiftWrapped'): EventEnvelope => ({
  event_id: '6f1c1b1e-0000-4000-8000-000000000001',
  aggregate_id: 'order-1',
  aggregate_type: 'Order',
  event_type,
  version: 3,
  data,
  metadata: {},
  created_at: '2026-12-03T09:00:00.000Z',
  schema_version,
});

// Release 1 of a contract, as it is written today.
const v1 = defineEvent('GiftWrapped', z.object({ order_id: f.text(), paper: f.str() }));
// Release 2 adds a field; old events are upcast, never rewritten.
const v2 = defineEvent('GiftWrapped', z.object({ order_id: f.text(), paper: f.str(), ribbon: f.oneOf(['none', 'red', 'gold']) }), {
  version: 2,
  upcasters: { 1: (data) => ({ ...data, ribbon: 'none' }) },
});

describe('event contracts', () => {
  it('decodes a v1 event written today after a field is added (v2), through the upcaster', () => {
    const written = createContractRegistry([v1]).upcast(envelope({ order_id: 'order-1', paper: 'washi' }));
    assert.equal(written.schema_version, 1);
    const decoded = createContractRegistry([v2]).decode(written);
    assert.deepEqual(decoded?.data, { order_id: 'order-1', paper: 'washi', ribbon: 'none' });
    assert.equal(decoded?.schema_version, 2);
    // A v2 event is not upcast again.
    const current = createContractRegistry([v2]).decode(envelope({ order_id: 'order-1', paper: 'washi', ribbon: 'gold' }, 2));
    assert.equal(current?.data.ribbon, 'gold');
  });

  it('refuses a contract version without an upcaster from each older version', () => {
    assert.throws(() => defineEvent('X', z.object({}), { version: 3, upcasters: { 1: (d) => d } }), /no upcaster from version 2 to 3/);
  });

  it('names the event and every broken field, and is not transient', () => {
    const registry = createContractRegistry([v2]);
    assert.throws(
      () => registry.decode(envelope({ order_id: '', paper: 7, ribbon: 'pink' }, 2)),
      (err: unknown) =>
        err instanceof EventDataError &&
        err.transient === false &&
        /GiftWrapped order-1@3 .*data\.order_id must be a non-empty string; data\.paper must be a string; data\.ribbon must be one of none, red, gold/.test(
          err.message,
        ),
    );
  });

  it('leaves unknown event types to the caller and strips unknown keys of known ones', () => {
    const registry = createContractRegistry([v2]);
    assert.equal(registry.decode(envelope({}, 1, 'SomethingNew')), undefined);
    const decoded = registry.decode(envelope({ order_id: 'o', paper: 'p', ribbon: 'red', password_hash: 'x' }, 2));
    assert.deepEqual(Object.keys(decoded!.data).sort(), ['order_id', 'paper', 'ribbon']);
  });

  it('fills what early events lack from the envelope, and only that', () => {
    const c = defineEvent('Stamped', z.object({ at: f.time() }), { fill: fillMissing({ at: createdAt }) });
    const registry = createContractRegistry([c]);
    assert.equal(registry.decode(envelope({}, 1, 'Stamped'))?.data.at, '2026-12-03T09:00:00.000Z');
    assert.equal(registry.decode(envelope({ at: '2020-01-01T00:00:00.000Z' }, 1, 'Stamped'))?.data.at, '2020-01-01T00:00:00.000Z');
  });
});
