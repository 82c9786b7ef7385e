import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from './errors.ts';
import {
  ensure,
  id,
  instantMs,
  intInRange,
  isoInstant,
  multiLine,
  nowMs,
  oneOf,
  pattern,
  singleLine,
  textLength,
  trimmed,
} from './validate.ts';

describe('validate', () => {
  it('ensure throws one validation error with every failed field, in order', () => {
    assert.doesNotThrow(() => ensure(null, null));
    try {
      ensure({ field: 'a', message: 'is bad' }, null, { field: 'b', message: 'is worse' });
      assert.fail('should throw');
    } catch (err) {
      assert.ok(err instanceof AppError);
      assert.equal(err.kind, 'validation');
      assert.equal(err.code, 'validation_failed');
      assert.equal(err.message, 'a: is bad; b: is worse');
      assert.deepEqual(err.errors, [
        { field: 'a', message: 'is bad' },
        { field: 'b', message: 'is worse' },
      ]);
    }
  });

  it('counts characters in code points', () => {
    assert.equal(textLength('山田'), 2);
    assert.equal(textLength('👍🏽'), 2);
    assert.equal(textLength('𠮷'), 1);
  });

  it('singleLine: bounds, type and control characters', () => {
    assert.equal(singleLine('f', 'abc', 1, 3), null);
    assert.equal(singleLine('f', '𠮷𠮷𠮷', 1, 3), null);
    assert.deepEqual(singleLine('f', 'abcd', 1, 3), { field: 'f', message: 'must be 1..3 characters' });
    assert.ok(singleLine('f', '', 1, 3));
    assert.ok(singleLine('f', 3, 1, 3));
    assert.ok(singleLine('f', 'a\r\nBcc: x', 1, 30));
    assert.ok(singleLine('f', 'a\u0000', 1, 30));
  });

  it('multiLine: allows empty, newlines and tabs; refuses other controls and excess', () => {
    assert.equal(multiLine('f', '', 5), null);
    assert.equal(multiLine('f', 'a\nb\tc', 5), null);
    assert.ok(multiLine('f', 'a\u0007', 5));
    assert.ok(multiLine('f', '123456', 5));
    assert.ok(multiLine('f', null, 5));
  });

  it('intInRange: safe integers within bounds only', () => {
    assert.equal(intInRange('n', 1, 1, 2), null);
    assert.equal(intInRange('n', 2, 1, 2), null);
    for (const v of [0, 3, 1.5, Number.NaN, Infinity, '1', null]) assert.ok(intInRange('n', v, 1, 2), String(v));
    assert.ok(intInRange('n', 2 ** 53, 1, 2 ** 60), 'unsafe integers are refused');
  });

  it('oneOf, pattern, id', () => {
    assert.equal(oneOf('r', 'a', ['a', 'b']), null);
    assert.ok(oneOf('r', 'c', ['a', 'b']));
    assert.ok(oneOf('r', 'toString', ['a']));
    assert.equal(pattern('p', 'x1', /^x\d$/, 'x and a digit'), null);
    assert.deepEqual(pattern('p', 'y', /^x\d$/, 'x and a digit'), { field: 'p', message: 'must be x and a digit' });
    assert.equal(id('id', '3f2c1a9e-4b7d-4c1e-9a51-0f6f1f2a9b10'), null);
    assert.equal(id('id', 'user-email:a@b.co'), null);
    for (const v of ['', ' a', 'a b', '-a', 'x'.repeat(129), 7, 'a\n']) assert.ok(id('id', v), JSON.stringify(v));
  });

  it('ISO instants need a date, a time and an offset', () => {
    assert.equal(instantMs('2025-01-01T00:00:00Z'), Date.UTC(2025, 0, 1));
    assert.equal(instantMs('2025-01-01T09:00:00.000+09:00'), Date.UTC(2025, 0, 1));
    assert.equal(instantMs('2024-02-29T23:59:59Z'), Date.UTC(2024, 1, 29, 23, 59, 59), 'a leap day');
    assert.equal(instantMs('0001-01-01T00:00:00Z'), -62135596800000, 'year 1 exists');
    // Dates Date.parse would bend into others (or PostgreSQL refuses): impossible days, year 0, 24:00.
    for (const v of [
      '2025-01-01',
      '2025-01-01T00:00:00',
      'now',
      '',
      5,
      '2025-13-01T00:00:00Z',
      '2024-02-31T00:00:00Z',
      '2023-02-29T00:00:00Z',
      '2024-04-31T00:00:00Z',
      '0000-01-01T00:00:00Z',
      '2024-01-01T24:00:00Z',
      '2024-01-01T00:60:00Z',
      '2024-01-01T00:00:00+24:00',
    ]) {
      assert.ok(Number.isNaN(instantMs(v)), String(v));
      assert.ok(isoInstant('t', v));
    }
    assert.equal(isoInstant('t', '2025-01-01T00:00:00Z'), null);
  });

  it('nowMs: a bad clock value is a programming error', () => {
    assert.equal(nowMs('2025-01-01T00:00:00Z'), Date.UTC(2025, 0, 1));
    assert.throws(() => nowMs(undefined), TypeError);
  });

  it('trimmed trims strings only', () => {
    assert.equal(trimmed('  a '), 'a');
    assert.equal(trimmed(5), 5);
  });
});
