import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from '../shared/errors.ts';
import { createRateLimiter } from './rate-limit.ts';

const perMinute = (limit: number) => ({ limit, windowSeconds: 60 });
const refused = (fn: () => unknown): number => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof AppError && err.kind === 'rate_limited');
    return err.extra?.retry_after as number;
  }
  assert.fail('expected a 429');
};

test('a bucket allows `limit` attempts, then refuses with the seconds until the next one', () => {
  let t = 0;
  const limiter = createRateLimiter({ now: () => t });
  const rule = [{ key: 'k', limit: perMinute(3) }];
  for (let i = 0; i < 3; i++) limiter.take(rule);
  assert.equal(
    refused(() => limiter.take(rule)),
    20,
    'one attempt comes back every 60/3 s',
  );
  t += 19_000;
  refused(() => limiter.take(rule));
  t += 1_000;
  limiter.take(rule);
  refused(() => limiter.take(rule));
});

test('all or nothing: a refused attempt drains no other bucket (one attacker cannot lock out the account)', () => {
  const limiter = createRateLimiter({ now: () => 0 });
  const attacker = [
    { key: 'ae:attacker|victim', limit: perMinute(3) },
    { key: 'e:victim', limit: perMinute(5) },
  ];
  for (let i = 0; i < 3; i++) limiter.take(attacker);
  for (let i = 0; i < 50; i++) refused(() => limiter.take(attacker));
  const user = [
    { key: 'ae:home|victim', limit: perMinute(3) },
    { key: 'e:victim', limit: perMinute(5) },
  ];
  limiter.take(user);
  limiter.take(user);
  refused(() => limiter.take(user));
});

test('a refund gives the attempt back to every bucket, once', () => {
  const limiter = createRateLimiter({ now: () => 0 });
  const rules = [
    { key: 'a', limit: perMinute(1) },
    { key: 'b', limit: perMinute(1) },
  ];
  const ticket = limiter.take(rules);
  refused(() => limiter.take(rules));
  ticket.refund();
  ticket.refund();
  const again = limiter.take(rules);
  refused(() => limiter.take(rules));
  again.refund();
});

test('memory stays bounded: full buckets, then the least recently used, are dropped', () => {
  let t = 0;
  const limiter = createRateLimiter({ now: () => t, maxKeys: 100 });
  for (let i = 0; i < 1000; i++) limiter.take([{ key: `k${i}`, limit: perMinute(5) }]);
  assert.ok(limiter.size() <= 101, `size ${limiter.size()}`);
  t += 3600_000;
  limiter.take([{ key: 'late', limit: perMinute(5) }]);
  assert.ok(limiter.size() <= 101);
});
