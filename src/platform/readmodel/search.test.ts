import assert from 'node:assert/strict';
import { test } from 'node:test';
import { containsPattern, searchTerms } from './search.ts';

test('terms split on any whitespace, including the ideographic space, and are NFKC-normalised', () => {
  assert.deepEqual(searchTerms('  綿100%\u3000Ｔシャツ  cotton '), ['綿100%', 'Tシャツ', 'cotton']);
  assert.deepEqual(searchTerms('ｼｬﾂ'), ['シャツ']);
  assert.deepEqual(searchTerms(undefined), []);
  assert.deepEqual(searchTerms('   '), []);
  assert.equal(searchTerms('a b c d e f g h i j').length, 8);
});

test('LIKE metacharacters in a term match literally', () => {
  assert.equal(containsPattern('100%'), '%100\\%%');
  assert.equal(containsPattern('a_b\\c'), '%a\\_b\\\\c%');
});
