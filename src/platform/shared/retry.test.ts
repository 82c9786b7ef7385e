import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exponentialDelay, retry } from './retry.ts';
import { TimeoutError, waitAtMost, withTimeout } from './timeout.ts';

test('exponentialDelay doubles from initialMs up to maxMs, with no, proportional or full jitter', () => {
  assert.deepEqual(
    [1, 2, 3, 4, 5].map((n) => exponentialDelay(n, { initialMs: 100, maxMs: 1000 })),
    [100, 200, 400, 800, 1000],
  );
  assert.equal(
    exponentialDelay(2, { initialMs: 100, jitter: 0.2 }, () => 0),
    160,
  );
  assert.equal(
    exponentialDelay(2, { initialMs: 100, jitter: 0.2 }, () => 0.999),
    240,
  );
  assert.equal(
    exponentialDelay(3, { initialMs: 10, jitter: 'full' }, () => 0.5),
    20,
  );
});

test('retry stops at success, at a failure not retryable, and after the last attempt', async () => {
  const waits: number[] = [];
  const opts = {
    attempts: 3,
    retryable: (e: unknown) => (e as Error).message === 'again',
    delayMs: (n: number) => n * 10,
    sleep: async (ms: number) => void waits.push(ms),
  };
  let calls = 0;
  assert.equal(await retry(async (n) => (++calls < 3 ? Promise.reject(new Error('again')) : n), opts), 3);
  assert.deepEqual(waits, [10, 20]);
  calls = 0;
  await assert.rejects(
    retry(async () => (++calls, Promise.reject(new Error('again'))), opts),
    /again/,
  );
  assert.equal(calls, 3);
  calls = 0;
  await assert.rejects(
    retry(async () => (++calls, Promise.reject(new Error('fatal'))), opts),
    /fatal/,
  );
  assert.equal(calls, 1);
});

test('withTimeout rejects a slow promise and passes a fast one; waitAtMost says which it was', async () => {
  const slow = new Promise((resolve) => setTimeout(resolve, 200));
  await assert.rejects(
    withTimeout(slow, 10, 'slow thing'),
    (e: unknown) => e instanceof TimeoutError && /slow thing did not settle within 10 ms/.test((e as Error).message),
  );
  await assert.rejects(
    withTimeout(slow, 10, () => new RangeError('custom')),
    RangeError,
  );
  assert.equal(await withTimeout(Promise.resolve(7), 1000, 'fast'), 7);
  assert.equal(await waitAtMost(slow, 10), false);
  assert.equal(await waitAtMost(Promise.reject(new Error('x')), 1000), true);
});
