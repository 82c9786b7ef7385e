import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createPacer } from './pacer.ts';

test('chunks shrink when the database is slow and grow back when it is fast, within bounds', () => {
  const pacer = createPacer({ targetMs: 1000, initial: 1000, min: 50, max: 5000 });
  for (let i = 0; i < 10; i++) pacer.record(pacer.size(), pacer.size() * 10); // 10 ms an event: 100 fit in a second
  assert.ok(pacer.size() >= 95 && pacer.size() <= 110, `slow: ${pacer.size()}`);
  for (let i = 0; i < 20; i++) pacer.record(pacer.size(), pacer.size() * 0.01);
  assert.equal(pacer.size(), 5000);
  for (let i = 0; i < 20; i++) pacer.record(pacer.size(), pacer.size() * 1000);
  assert.equal(pacer.size(), 50);
});
