import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EventEnvelope } from '../shared/envelope.ts';
import { decodeEnvelope, encodeEnvelope, PoisonMessageError } from './codec.ts';
import type { PoisonReason } from './codec.ts';

const envelope = (over: Partial<EventEnvelope> = {}): EventEnvelope => ({
  event_id: '0b7c4a52-9f0e-4c1e-8d5e-2f1a3b4c5d6e',
  aggregate_id: 'order-1',
  aggregate_type: 'Order',
  event_type: 'OrderPlaced',
  version: 3,
  data: { total: 1200, items: [{ product_id: 'p-1', quantity: 2 }], note: '注文 ✓' },
  metadata: { correlation_id: 'c-1', causation_id: 'cmd-1', user_id: 'u-1' },
  created_at: '2024-10-18T12:30:00.000Z',
  schema_version: 1,
  ...over,
});

const poison = (value: Buffer | string | null, reason: PoisonReason): PoisonMessageError => {
  try {
    decodeEnvelope(value);
  } catch (err) {
    assert.ok(err instanceof PoisonMessageError, `expected PoisonMessageError, got ${String(err)}`);
    assert.equal(err.reason, reason, err.message);
    return err;
  }
  return assert.fail(`expected ${JSON.stringify(value?.toString())} to be rejected as ${reason}`);
};

const withField = (field: string, value: unknown) => JSON.stringify({ ...envelope(), [field]: value });
const without = (field: string) => {
  const e: Record<string, unknown> = { ...envelope() };
  delete e[field];
  return JSON.stringify(e);
};

describe('encodeEnvelope', () => {
  it('keys by aggregate id and carries the routing headers', () => {
    const msg = encodeEnvelope(envelope());
    assert.equal(msg.key, 'order-1');
    assert.deepEqual(msg.headers, {
      'event-type': 'OrderPlaced',
      'aggregate-type': 'Order',
      'event-id': '0b7c4a52-9f0e-4c1e-8d5e-2f1a3b4c5d6e',
      version: '3',
    });
  });

  it('writes exactly the contract fields, in contract order', () => {
    const stored = { ...envelope(), unpublished: 1, ttl: 99 } as EventEnvelope; // what a store row may carry
    const value = JSON.parse(encodeEnvelope(stored).value) as Record<string, unknown>;
    assert.deepEqual(Object.keys(value), [
      'event_id',
      'aggregate_id',
      'aggregate_type',
      'event_type',
      'version',
      'data',
      'metadata',
      'created_at',
      'schema_version',
    ]);
  });

  it('round-trips through decode, from a Buffer as a consumer receives it', () => {
    const original = envelope();
    assert.deepEqual(decodeEnvelope(Buffer.from(encodeEnvelope(original).value)), original);
  });
});

describe('decodeEnvelope', () => {
  it('accepts a string value too', () => {
    assert.deepEqual(decodeEnvelope(encodeEnvelope(envelope()).value), envelope());
  });

  it('defaults a missing schema_version to 1 (the §4 field list omits it)', () => {
    assert.equal(decodeEnvelope(without('schema_version')).schema_version, 1);
  });

  it('drops fields outside the contract', () => {
    const decoded = decodeEnvelope(withField('smuggled', true));
    assert.equal('smuggled' in decoded, false);
  });

  it('rejects a missing value (tombstone) and an empty one', () => {
    poison(null, 'empty');
    poison(Buffer.alloc(0), 'empty');
  });

  it('rejects bytes that are not UTF-8 instead of storing replacement characters', () => {
    poison(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), 'invalid_utf8');
  });

  it('rejects garbage and truncated JSON', () => {
    poison(Buffer.from('not json at all'), 'invalid_json');
    poison(encodeEnvelope(envelope()).value.slice(0, 40), 'invalid_json');
  });

  it('rejects JSON that is not an object', () => {
    for (const v of ['[]', '"x"', '42', 'null', 'true']) poison(v, 'invalid_envelope');
  });

  it('names every broken field at once', () => {
    const err = poison(JSON.stringify({ event_id: '', version: 0, data: [] }), 'invalid_envelope');
    for (const field of ['event_id', 'aggregate_id', 'aggregate_type', 'event_type', 'version', 'data', 'metadata', 'created_at']) {
      assert.ok(
        err.problems.some((p) => p.startsWith(`${field}:`)),
        `${field} not reported in ${err.message}`,
      );
    }
  });

  // [field, bad value, the problem reported (when it is not the field itself)]
  const invalid: [string, unknown, string?][] = [
    ['event_id', 42],
    ['aggregate_id', ''],
    ['aggregate_type', 'Invoice'],
    ['event_type', null],
    ['version', 0],
    ['version', 1.5],
    ['version', '3'],
    ['version', Number.MAX_SAFE_INTEGER + 2],
    ['data', null],
    ['data', 'x'],
    ['metadata', []],
    ['metadata', { user_id: 7 }, 'metadata.user_id'],
    ['created_at', '2024-10-18'],
    ['created_at', 'yesterday'],
    ['schema_version', 0],
  ];
  for (const [field, value, reported = field] of invalid) {
    it(`rejects ${field} = ${JSON.stringify(value)}`, () => {
      const err = poison(withField(field, value), 'invalid_envelope');
      assert.deepEqual(
        err.problems.map((p) => p.split(':')[0]),
        [reported],
      );
    });
  }

  it('accepts every aggregate type of the contract', () => {
    for (const t of ['User', 'EmailClaim', 'Category', 'CategoryNameClaim', 'Product', 'Inventory', 'Cart', 'Order', 'Shipment'] as const) {
      assert.equal(decodeEnvelope(withField('aggregate_type', t)).aggregate_type, t);
    }
  });
});
