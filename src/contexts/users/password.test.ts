import assert from 'node:assert/strict';
import { scrypt } from 'node:crypto';
import { test } from 'node:test';
import { AppError } from '../../platform/shared/errors.ts';
import { createPasswordHasher, OWASP_SCRYPT } from './password.ts';

// Small parameters keep the unit tests fast; one test below runs the real ones.
const fast = { N: 1024, r: 8, p: 1 };

test('OWASP parameters: N=2^17, r=8, p=1, and maxmem large enough for them (Node refuses 128 MiB by default)', async () => {
  assert.deepEqual(OWASP_SCRYPT, { N: 131072, r: 8, p: 1 });
  await assert.rejects(
    new Promise((resolve, reject) => scrypt('pw', 'salt', 32, OWASP_SCRYPT, (err, key) => (err ? reject(err) : resolve(key)))),
    /memory/i,
  );
  const hasher = createPasswordHasher();
  const hash = await hasher.hash('correct horse');
  assert.match(hash, /^scrypt\$131072\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
  assert.equal(await hasher.verify('correct horse', hash), true);
  assert.equal(hasher.needsRehash(hash), false);
});

test('a hash verifies its password only; garbage and absurd parameters are refused, not computed', async () => {
  const hasher = createPasswordHasher({ params: fast });
  const hash = await hasher.hash('correct horse');
  assert.equal(await hasher.verify('correct horse', hash), true);
  assert.equal(await hasher.verify('correct horse ', hash), false);
  for (const bad of [
    'garbage',
    '',
    'scrypt$1024$8$1$salt',
    `scrypt$${2 ** 30}$8$1$c2FsdA$aGFzaA`,
    'scrypt$1000$8$1$c2FsdA$aGFzaA',
    `${hash}$extra`,
  ]) {
    assert.equal(await hasher.verify('x', bad), false, bad);
  }
});

test('hashes of older, weaker parameters still verify and ask to be rehashed', async () => {
  const old = createPasswordHasher({ params: { N: 512, r: 8, p: 1 } });
  const current = createPasswordHasher({ params: fast });
  const hash = await old.hash('pw-123456');
  assert.equal(await current.verify('pw-123456', hash), true);
  assert.equal(current.needsRehash(hash), true);
  assert.equal(current.needsRehash(await current.hash('pw-123456')), false);
});

test('the same password hashes differently (salted); an unknown account costs a verification too', async () => {
  const hasher = createPasswordHasher({ params: fast });
  assert.notEqual(await hasher.hash('pw'), await hasher.hash('pw'));
  await hasher.verifyNothing('whatever');
});

test('at most `concurrency` hashes run; a full queue is refused at once with 503 and Retry-After', async () => {
  const hasher = createPasswordHasher({ params: { N: 2 ** 14, r: 8, p: 1 }, concurrency: 2, queue: 3 });
  let peak = 0;
  const watch = setInterval(() => (peak = Math.max(peak, hasher.load().running)), 1);
  const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => hasher.hash(`password ${i}`)));
  clearInterval(watch);
  const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 5, '2 running + 3 queued');
  assert.equal(refused.length, 3);
  for (const r of refused) {
    assert.ok(r.reason instanceof AppError);
    assert.equal(r.reason.kind, 'unavailable');
    assert.equal(r.reason.extra?.retry_after, 1);
  }
  assert.ok(peak <= 2, `peak ${peak}`);
  assert.deepEqual(hasher.load(), { running: 0, waiting: 0 });
});

test('a hash that waits too long for a slot is refused instead of hanging', async () => {
  const hasher = createPasswordHasher({ params: { N: 2 ** 15, r: 8, p: 1 }, concurrency: 1, queue: 10, maxWaitMs: 1 });
  const results = await Promise.allSettled([hasher.hash('a'), hasher.hash('b'), hasher.hash('c')]);
  assert.equal(results[0]?.status, 'fulfilled');
  assert.ok(results.slice(1).every((r) => r.status === 'rejected' && (r.reason as AppError).kind === 'unavailable'));
  assert.deepEqual(hasher.load(), { running: 0, waiting: 0 });
});
