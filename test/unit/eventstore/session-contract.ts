/**
 * The behaviour every SessionStore must have (sessions.ts), run against the in-memory store
 * (sessions.test.ts) and DynamoDB Local (test/integration/eventstore.dynamodb.test.ts). Test-only.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import type { RotateRequest, RotateResult, SessionStore } from '../../../src/platform/eventstore/sessions.ts';

const NOW = '2030-01-01T00:00:00.000Z';
const NOW_S = Date.parse(NOW) / 1000;

export function sessionStoreContract(label: string, makeStore: () => Promise<SessionStore>): void {
  const start = async (store: SessionStore) => {
    const family = { family_id: randomUUID(), user_id: randomUUID(), token_id: 't1', now: NOW, expires_at: NOW_S + 3600 };
    await store.create(family);
    const rotate = (presented: string, next: string, over: Partial<RotateRequest> = {}): Promise<RotateResult> =>
      store.rotate({
        family_id: family.family_id,
        user_id: family.user_id,
        presented,
        next,
        now: NOW,
        nowSeconds: NOW_S,
        expires_at: NOW_S + 7200,
        ...over,
      });
    return { family, rotate };
  };

  describe(`SessionStore contract: ${label}`, () => {
    it('rotates the current token only, once', async () => {
      const store = await makeStore();
      const { family, rotate } = await start(store);
      assert.deepEqual(await rotate('t1', 't2'), { ok: true, user_id: family.user_id, generation: 2 });
      assert.deepEqual(await rotate('t2', 't3'), { ok: true, user_id: family.user_id, generation: 3 });
      const stored = await store.get(family.family_id);
      assert.equal(stored?.token_id, 't3');
      assert.equal(stored?.expires_at, NOW_S + 7200, 'the session lives as long as its newest token');
      assert.equal(stored?.revoked_at, null);
    });

    it('a spent token is reuse: the family is revoked and its newest token refused', async () => {
      const store = await makeStore();
      const { family, rotate } = await start(store);
      await rotate('t1', 't2');
      assert.deepEqual(await rotate('t1', 'thief'), { ok: false, reason: 'reused' });
      assert.deepEqual(await rotate('t2', 't3'), { ok: false, reason: 'revoked' });
      const stored = await store.get(family.family_id);
      assert.equal(stored?.revoked_reason, 'reuse');
      assert.equal(stored?.token_id, 't2', 'nothing rotated after the reuse');
    });

    it('of concurrent rotations of one token exactly one wins; the others are reuse', async () => {
      const store = await makeStore();
      const { family, rotate } = await start(store);
      const results = await Promise.all(Array.from({ length: 5 }, (_, i) => rotate('t1', `next-${i}`)));
      assert.equal(results.filter((r) => r.ok).length, 1, JSON.stringify(results));
      assert.ok(results.filter((r) => !r.ok).every((r) => !r.ok && (r.reason === 'reused' || r.reason === 'revoked')));
      assert.equal((await store.get(family.family_id))?.revoked_reason, 'reuse');
    });

    it('revoking is idempotent, keeps the first reason, and never creates a family', async () => {
      const store = await makeStore();
      const { family, rotate } = await start(store);
      await store.revoke(family.family_id, 'logout', NOW);
      await store.revoke(family.family_id, 'reuse', '2030-01-02T00:00:00.000Z');
      const stored = await store.get(family.family_id);
      assert.deepEqual([stored?.revoked_reason, stored?.revoked_at], ['logout', NOW]);
      assert.deepEqual(await rotate('t1', 't2'), { ok: false, reason: 'revoked' });
      const ghost = randomUUID();
      await store.revoke(ghost, 'logout', NOW);
      assert.equal(await store.get(ghost), undefined);
    });

    it('an unknown family, another user or an expired session is unknown (and revokes nothing)', async () => {
      const store = await makeStore();
      const { family, rotate } = await start(store);
      assert.deepEqual(await rotate('t1', 'x', { family_id: randomUUID() }), { ok: false, reason: 'unknown' });
      assert.deepEqual(await rotate('t1', 'x', { user_id: randomUUID() }), { ok: false, reason: 'unknown' });
      assert.deepEqual(await rotate('t1', 'x', { nowSeconds: NOW_S + 3600 }), { ok: false, reason: 'unknown' });
      assert.equal((await store.get(family.family_id))?.revoked_at, null);
      assert.equal((await rotate('t1', 't2')).ok, true);
    });
  });
}
