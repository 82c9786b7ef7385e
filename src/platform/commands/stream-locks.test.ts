import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createStreamLocks } from './stream-locks.ts';

test('commands on one stream run one at a time, first come first served; others do not wait', async () => {
  const locks = createStreamLocks();
  const order: string[] = [];
  const first = await locks.acquire(['inv-1', 'cart-a']);
  assert.equal(first.waited, false);
  const elsewhere = await locks.acquire(['inv-2', 'cart-c']);
  assert.equal(elsewhere.waited, false, 'no shared stream, no waiting');
  elsewhere.release();
  const second = locks.acquire(['inv-1']).then((l) => (order.push('second'), l));
  const third = locks.acquire(['inv-1']).then((l) => (order.push('third'), l));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, []);
  assert.equal(first.contended('inv-1'), true);
  assert.equal(first.contended('cart-a'), false);
  first.release();
  const s = await second;
  assert.equal(s.waited, true);
  assert.deepEqual(order, ['second']);
  s.release();
  s.release(); // idempotent: must not hand the stream on twice
  const t = await third;
  assert.deepEqual(order, ['second', 'third']);
  t.release();
  assert.equal(locks.held(), 0);
});

test('two commands taking the same streams in opposite order do not deadlock', async () => {
  const locks = createStreamLocks();
  const runs = await Promise.all(
    Array.from({ length: 20 }, async (_, i) => {
      const l = await locks.acquire(i % 2 ? ['a', 'b'] : ['b', 'a']);
      await new Promise((r) => setTimeout(r, 1));
      l.release();
      return i;
    }),
  );
  assert.equal(runs.length, 20);
  assert.equal(locks.held(), 0);
});
