import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_JSON_DEPTH, nestingDepth } from './validate.ts';

test('nesting depth counts arrays and objects, not brackets inside strings', () => {
  assert.equal(nestingDepth('{"a":1}'), 1);
  assert.equal(nestingDepth('{"a":[{"b":[]}]}'), 4);
  assert.equal(nestingDepth('{"a":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}'), 1);
  assert.equal(nestingDepth('{"a":"\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}'), 1, 'an escaped quote does not end the string');
  assert.equal(nestingDepth('42'), 0);
  assert.ok(nestingDepth('['.repeat(150) + ']'.repeat(150)) > MAX_JSON_DEPTH);
  assert.ok(nestingDepth('['.repeat(10_000_000).slice(0, 1_000_000)) > MAX_JSON_DEPTH, 'stops early on a huge body');
});
