import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toDeadLetter } from './dlq.ts';

const original = {
  key: Buffer.from('order-1'),
  value: Buffer.from('{"broken":'),
  headers: { 'event-type': Buffer.from('OrderPlaced'), 'trace-id': 'abc', gone: undefined },
};
const ctx = { topic: 'ec-events', partition: 4, offset: '1234', groupId: 'projector' };

describe('toDeadLetter', () => {
  it('keeps the original key, value and headers byte for byte, so the record can be replayed as is', () => {
    const dead = toDeadLetter(original, { ...ctx, error: new Error('boom') });
    assert.equal(dead.key, original.key);
    assert.equal(dead.value, original.value);
    assert.equal(dead.headers?.['event-type'], original.headers['event-type']);
    assert.equal(dead.headers?.['trace-id'], 'abc');
    assert.equal('gone' in (dead.headers ?? {}), false);
  });

  it('says why, from where, and who gave up', () => {
    const error = new TypeError('cannot read total');
    const dead = toDeadLetter(original, { ...ctx, error });
    assert.equal(dead.headers?.error, 'TypeError: cannot read total');
    assert.equal(dead.headers?.['error-stack'], error.stack);
    assert.equal(dead.headers?.['original-topic'], 'ec-events');
    assert.equal(dead.headers?.['original-partition'], '4');
    assert.equal(dead.headers?.['original-offset'], '1234');
    assert.equal(dead.headers?.['consumer-group'], 'projector');
  });

  it('accepts a thrown non-Error', () => {
    const dead = toDeadLetter(original, { ...ctx, error: 'plain string' });
    assert.equal(dead.headers?.error, 'Error: plain string');
  });

  it('bounds the error headers so the dead letter itself stays under the broker message size limit', () => {
    const error = new Error('x'.repeat(100_000));
    error.stack = 'y'.repeat(100_000);
    const dead = toDeadLetter(original, { ...ctx, error });
    assert.ok(String(dead.headers?.error).length <= 2_000);
    assert.ok(String(dead.headers?.['error-stack']).length <= 8_000);
  });
});
