/**
 * The behaviour every EventStore must have, written once and run against each implementation
 * (memory.test.ts, test/integration/eventstore.dynamodb.test.ts). Test-only: nothing outside tests imports it.
 *
 * `makeStore` is called once per test and must return an empty store, so assertions can be exact (the outbox
 * and a full scan see only the test's own events).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EventEnvelope } from '../../../src/platform/shared/envelope.ts';
import { loadAggregate, retryOnConflict } from '../../../src/platform/eventstore/aggregate.ts';
import type { AppendOptions, EventStore, IdempotencyRecord, StreamWrite } from '../../../src/platform/eventstore/types.ts';
import { ConcurrencyError, IdempotencyKeyTaken, TransactionTooLarge } from '../../../src/platform/eventstore/types.ts';

const T0 = '2030-01-01T00:00:00.000Z';
const at = (ms: number) => new Date(Date.parse(T0) + ms).toISOString();
const opts = (now = T0, extra: Partial<AppendOptions> = {}): AppendOptions => ({
  metadata: { correlation_id: 'corr-1', user_id: 'u-1' },
  now,
  ...extra,
});
const counted = (id: string, expected: number, n: number, from = expected + 1): StreamWrite => ({
  aggregate_id: id,
  aggregate_type: 'Inventory',
  expected_version: expected,
  events: Array.from({ length: n }, (_, i) => ({ event_type: 'Counted', data: { n: from + i } })),
});
const versions = (events: EventEnvelope[]) => events.map((e) => e.version);
const idem = (key: string, body: unknown = { order_id: 'o-1' }): IdempotencyRecord => ({ key, request_hash: 'h1', status: 201, body });

/** Index reads (the outbox) are eventually consistent on DynamoDB: poll briefly instead of asserting once. */
async function eventually(check: () => Promise<void>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

// An order-sensitive fold: replaying in a different order, or skipping or repeating an event, changes it.
type CounterState = { count: number; digest: number; last: number };
type Counted = { type: 'Counted'; data: { n: number } };
const counter = {
  initialState: (): CounterState => ({ count: 0, digest: 7, last: 0 }),
  evolve: (s: CounterState, e: Counted): CounterState => ({
    count: s.count + 1,
    digest: (s.digest * 31 + e.data.n) % 1_000_000_007,
    last: e.data.n,
  }),
};
const snapshotPolicy = (schemaVersion = 1) => ({
  schemaVersion,
  every: 100,
  toSnapshot: (s: CounterState) => s,
  fromSnapshot: (d: unknown) => d as CounterState,
});

export interface ContractOptions {
  /** A fresh store whose table already holds these events as an older release wrote them (no checks, no outbox). */
  makeStoreWith: (stored: EventEnvelope[]) => Promise<EventStore>;
}

export function eventStoreContract(label: string, makeStore: () => Promise<EventStore>, contractOpts: ContractOptions): void {
  let seq = 0;
  const id = (prefix: string) => `${prefix}-${++seq}-${Math.random().toString(36).slice(2, 8)}`;

  describe(`EventStore contract: ${label}`, () => {
    describe('append and read', () => {
      it('numbers events after expected_version and reads them back exactly as returned, in order', async () => {
        const store = await makeStore();
        const s = id('stream');
        const first = await store.append([counted(s, 0, 3)], opts('2030-01-01T09:00:00+09:00'));
        assert.deepEqual(versions(first), [1, 2, 3]);
        assert.equal(first[0]?.created_at, T0, 'timestamps are normalised to toISOString form');
        assert.deepEqual(first[0]?.metadata, { correlation_id: 'corr-1', user_id: 'u-1' });
        assert.equal(new Set(first.map((e) => e.event_id)).size, 3);
        const second = await store.append([counted(s, 3, 2)], opts(at(1000)));
        assert.deepEqual(versions(second), [4, 5]);
        const all = await store.readStream(s);
        assert.deepEqual(all, [...first, ...second]);
        assert.deepEqual(
          all.map((e) => e.data.n),
          [1, 2, 3, 4, 5],
        );
        assert.deepEqual(versions(await store.readStream(s, { afterVersion: 2 })), [3, 4, 5]);
        assert.deepEqual(versions(await store.readStream(s, { afterVersion: 1, toVersion: 3 })), [2, 3]);
        assert.deepEqual(await store.readStream(s, { afterVersion: 3, toVersion: 3 }), []);
        assert.deepEqual(await store.readStream(id('missing')), []);
      });

      it('keeps data exactly as JSON has it: key order, empty values, nesting, schema_version', async () => {
        const store = await makeStore();
        const s = id('stream');
        const data = { z: 1, a: '', nested: { list: [], empty: {}, big: 12345678901234, frac: 0.1 }, nil: null, gone: undefined };
        const [stored] = await store.append(
          [
            {
              aggregate_id: s,
              aggregate_type: 'Order',
              expected_version: 0,
              events: [{ event_type: 'OrderPlaced', data, schema_version: 2 }],
            },
          ],
          opts(),
        );
        const [read] = await store.readStream(s);
        assert.deepEqual(read, stored);
        assert.equal(
          JSON.stringify(read?.data),
          '{"z":1,"a":"","nested":{"list":[],"empty":{},"big":12345678901234,"frac":0.1},"nil":null}',
        );
        assert.equal(read?.schema_version, 2);
        assert.equal(read?.aggregate_type, 'Order');
      });

      it('appends to several streams atomically in one call', async () => {
        const store = await makeStore();
        const [a, b, c] = [id('order'), id('inv'), id('cart')];
        await store.append([counted(b, 0, 1)], opts());
        const out = await store.append([counted(a, 0, 1), counted(b, 1, 2), counted(c, 0, 1)], opts(at(1)));
        assert.deepEqual(
          out.map((e) => `${e.aggregate_id}@${e.version}`),
          [`${a}@1`, `${b}@2`, `${b}@3`, `${c}@1`],
        );
        assert.deepEqual(versions(await store.readStream(b)), [1, 2, 3]);
        assert.equal((await store.readStream(c)).length, 1);
      });

      it('a conflict on one stream fails the whole transaction: nothing is written on any stream', async () => {
        const store = await makeStore();
        const [a, b] = [id('inv'), id('order')];
        await store.append([counted(a, 0, 1)], opts());
        await assert.rejects(store.append([counted(a, 0, 1), counted(b, 0, 2)], opts(at(1))), (err: unknown) => {
          assert.ok(err instanceof ConcurrencyError);
          assert.deepEqual(err.aggregateIds, [a]);
          assert.equal(err.kind, 'concurrency');
          return true;
        });
        assert.deepEqual(await store.readStream(b), []);
        assert.deepEqual(versions(await store.readStream(a)), [1]);
      });

      it('expected_version 0 (or any stale version) on an existing stream conflicts', async () => {
        const store = await makeStore();
        const s = id('stream');
        await store.append([counted(s, 0, 3)], opts());
        await assert.rejects(store.append([counted(s, 0, 1)], opts()), ConcurrencyError);
        await assert.rejects(store.append([counted(s, 1, 1)], opts()), ConcurrencyError);
        await assert.rejects(store.append([counted(s, 2, 5)], opts()), ConcurrencyError);
        assert.deepEqual(versions(await store.readStream(s)), [1, 2, 3]);
      });

      it('of 10 concurrent appends at the same version exactly one wins', async () => {
        const store = await makeStore();
        const s = id('hot');
        await store.append([counted(s, 0, 1)], opts());
        const results = await Promise.allSettled(
          Array.from({ length: 10 }, (_, i) => store.append([counted(s, 1, 2, 100 * i)], opts(at(i)))),
        );
        const won = results.filter((r): r is PromiseFulfilledResult<EventEnvelope[]> => r.status === 'fulfilled');
        assert.equal(won.length, 1, `expected exactly one winner, got ${won.length}`);
        for (const r of results) {
          if (r.status === 'rejected') {
            assert.ok(r.reason instanceof ConcurrencyError, `a loser failed with ${String(r.reason)}`);
            assert.deepEqual(r.reason.aggregateIds, [s]);
          }
        }
        const stream = await store.readStream(s);
        assert.deepEqual(versions(stream), [1, 2, 3]);
        assert.deepEqual(
          stream.slice(1).map((e) => e.event_id),
          won[0]?.value.map((e) => e.event_id),
        );
      });

      it('a write without events guards a stream that was read but not changed', async () => {
        const store = await makeStore();
        const [product, cart] = [id('product'), id('cart')];
        await store.append([counted(product, 0, 2)], opts());
        const guard = (v: number): StreamWrite => ({ aggregate_id: product, aggregate_type: 'Product', expected_version: v, events: [] });
        assert.deepEqual(versions(await store.append([guard(2), counted(cart, 0, 1)], opts())), [1]);
        await store.append([counted(product, 2, 1)], opts());
        await assert.rejects(
          store.append([guard(2), counted(cart, 1, 1)], opts()),
          (err: unknown) => err instanceof ConcurrencyError && err.aggregateIds.includes(product),
        );
        assert.deepEqual(versions(await store.readStream(cart)), [1]);
        assert.deepEqual(versions(await store.readStream(product)), [1, 2, 3], 'a guard writes nothing');
      });

      it('rejects malformed appends before writing anything', async () => {
        const store = await makeStore();
        const s = id('stream');
        await assert.rejects(store.append([counted(s, 0, 1), counted(s, 1, 1)], opts()), TypeError);
        await assert.rejects(store.append([counted(s, -1, 1)], opts()), RangeError);
        await assert.rejects(store.append([counted(s, 0, 1)], opts('yesterday')), RangeError);
        assert.deepEqual(await store.append([], opts()), []);
        assert.deepEqual(await store.readStream(s), []);
      });
    });

    describe('100-item transaction limit', () => {
      it('accepts exactly 100 items and refuses 101 with a clear error, writing nothing', async () => {
        const store = await makeStore();
        const [a, b, c, d] = [id('a'), id('b'), id('c'), id('d')];
        assert.equal((await store.append([counted(a, 0, 100)], opts())).length, 100);
        assert.equal((await store.append([counted(b, 0, 99)], opts(T0, { idempotency: idem(id('key')) }))).length, 99);
        await assert.rejects(store.append([counted(c, 0, 101)], opts()), (err: unknown) => {
          assert.ok(err instanceof TransactionTooLarge);
          assert.equal(err.items, 101);
          assert.match(err.message, /at most 100 items/);
          return true;
        });
        const key = id('key');
        await assert.rejects(
          store.append([counted(c, 0, 50), counted(d, 0, 50)], opts(T0, { idempotency: idem(key) })),
          TransactionTooLarge,
        );
        assert.deepEqual(await store.readStream(c), []);
        assert.deepEqual(await store.readStream(d), []);
        assert.equal(await store.findIdempotency(key), undefined);
      });
    });

    describe('idempotency', () => {
      it('stores the key with the events and refuses a second append with it, atomically', async () => {
        const store = await makeStore();
        const [a, b, key] = [id('order'), id('order'), id('key')];
        await store.append([counted(a, 0, 1)], opts(T0, { idempotency: idem(key, { order_id: a, items: [] }) }));
        assert.deepEqual(await store.findIdempotency(key), { key, request_hash: 'h1', status: 201, body: { order_id: a, items: [] } });
        await assert.rejects(store.append([counted(b, 0, 1)], opts(T0, { idempotency: idem(key) })), (err: unknown) => {
          assert.ok(err instanceof IdempotencyKeyTaken);
          assert.equal(err.key, key);
          return true;
        });
        assert.deepEqual(await store.readStream(b), [], 'the second command left no trace');
        assert.equal(await store.findIdempotency(id('unknown')), undefined);
      });

      it('does not keep the key when the transaction fails on a conflict', async () => {
        const store = await makeStore();
        const [s, key] = [id('stream'), id('key')];
        await store.append([counted(s, 0, 1)], opts());
        await assert.rejects(store.append([counted(s, 0, 1)], opts(T0, { idempotency: idem(key) })), ConcurrencyError);
        assert.equal(await store.findIdempotency(key), undefined);
      });

      it('reports a taken key rather than a conflict: the command already happened', async () => {
        const store = await makeStore();
        const [s, key] = [id('stream'), id('key')];
        await store.append([counted(s, 0, 1)], opts(T0, { idempotency: idem(key) }));
        await assert.rejects(store.append([counted(s, 0, 1)], opts(T0, { idempotency: idem(key) })), IdempotencyKeyTaken);
      });

      it('forgets a key after 24 hours, and then lets it be used again', async () => {
        const store = await makeStore();
        const [a, b, key] = [id('stream'), id('stream'), id('key')];
        const twoDaysAgo = new Date(Date.now() - 48 * 3600_000).toISOString();
        await store.append([counted(a, 0, 1)], opts(twoDaysAgo, { idempotency: idem(key, 'old') }));
        assert.equal(await store.findIdempotency(key), undefined);
        await store.append([counted(b, 0, 1)], opts(new Date().toISOString(), { idempotency: idem(key, 'new') }));
        assert.equal((await store.findIdempotency(key))?.body, 'new');
      });

      it('stores a key with no events (a command that decided nothing still answers once)', async () => {
        const store = await makeStore();
        const key = id('key');
        assert.deepEqual(await store.append([], opts(T0, { idempotency: idem(key) })), []);
        assert.equal((await store.findIdempotency(key))?.status, 201);
      });
    });

    describe('credentials', () => {
      const registered = (userId: string, extra: Record<string, unknown> = {}): StreamWrite => ({
        aggregate_id: userId,
        aggregate_type: 'User',
        expected_version: 0,
        events: [{ event_type: 'UserRegistered', data: { user_id: userId, email: `${userId}@example.com`, ...extra } }],
      });

      it('writes the credential in the same transaction as the events, never into an event', async () => {
        const store = await makeStore();
        const [user, claim] = [id('user'), id('claim')];
        const events = await store.append(
          [counted(claim, 0, 1), registered(user)],
          opts(T0, { credential: { user_id: user, password_hash: 'scrypt$h1' } }),
        );
        assert.equal(events.length, 2);
        assert.deepEqual(await store.readCredential(user), { user_id: user, password_hash: 'scrypt$h1' });
        assert.ok(!JSON.stringify(await store.readStream(user)).includes('scrypt$h1'));
        assert.equal(await store.readCredential(id('nobody')), undefined);
      });

      it('a failed transaction writes no credential, and a second credential for a user is a conflict', async () => {
        const store = await makeStore();
        const [user, claim, other] = [id('user'), id('claim'), id('user')];
        await store.append([counted(claim, 0, 1)], opts());
        await assert.rejects(
          store.append([counted(claim, 0, 1), registered(user)], opts(T0, { credential: { user_id: user, password_hash: 'h' } })),
          ConcurrencyError,
        );
        assert.equal(await store.readCredential(user), undefined, 'the losing registration left its hash behind');
        await store.append([registered(other)], opts(T0, { credential: { user_id: other, password_hash: 'first' } }));
        await assert.rejects(
          store.append([counted(id('s'), 0, 1)], opts(T0, { credential: { user_id: other, password_hash: 'second' } })),
          (err: unknown) => err instanceof ConcurrencyError && err.aggregateIds.includes(other),
        );
        assert.equal((await store.readCredential(other))?.password_hash, 'first');
      });

      it('refuses an event that carries a password hash, writing nothing', async () => {
        const store = await makeStore();
        const user = id('user');
        await assert.rejects(store.append([registered(user, { password_hash: 'scrypt$x' })], opts()), TypeError);
        assert.deepEqual(await store.readStream(user), []);
      });

      it('counts the credential as a transaction item', async () => {
        const store = await makeStore();
        const user = id('user');
        await assert.rejects(
          store.append([counted(id('s'), 0, 99), registered(user)], opts(T0, { credential: { user_id: user, password_hash: 'h' } })),
          TransactionTooLarge,
        );
        assert.equal(await store.readCredential(user), undefined);
      });

      it('replaces a hash only if it is still the one the caller verified', async () => {
        const store = await makeStore();
        const user = id('user');
        await store.append([registered(user)], opts(T0, { credential: { user_id: user, password_hash: 'old' } }));
        assert.equal(await store.replaceCredential(user, 'stale', 'new'), false);
        assert.equal(await store.replaceCredential(user, 'old', 'new'), true);
        assert.equal((await store.readCredential(user))?.password_hash, 'new');
        assert.equal(await store.replaceCredential(id('nobody'), 'old', 'new'), false);
        assert.equal(await store.readCredential(id('nobody')), undefined, 'replacing never creates a credential');
      });

      it('hides a legacy hash from every reader and moves it into a credential on first read', async () => {
        const [user, plain] = [id('legacy'), id('plain')];
        const legacy: EventEnvelope = {
          event_id: '00000000-0000-4000-8000-000000000001',
          aggregate_id: user,
          aggregate_type: 'User',
          event_type: 'UserRegistered',
          version: 1,
          data: { user_id: user, email: 'old@example.com', password_hash: 'scrypt$16384$8$1$salt$hash', registered_at: T0 },
          metadata: {},
          created_at: T0,
          schema_version: 1,
        };
        const store = await contractOpts.makeStoreWith([
          legacy,
          { ...legacy, event_id: '00000000-0000-4000-8000-000000000002', aggregate_id: plain, data: { user_id: plain } },
        ]);
        const expected = { ...legacy, data: { user_id: user, email: 'old@example.com', registered_at: T0 } };
        assert.deepEqual(await store.readStream(user), [expected]);
        const scanned: EventEnvelope[] = [];
        await store.scanAll(async (page) => void scanned.push(...page));
        assert.deepEqual(
          scanned.filter((e) => e.aggregate_id === user),
          [expected],
        );
        assert.ok(!JSON.stringify(scanned).includes('scrypt$'), 'a scan (rebuild) saw the hash');

        const migrated = await Promise.all([store.readCredential(user), store.readCredential(user)]);
        assert.deepEqual(migrated, [
          { user_id: user, password_hash: 'scrypt$16384$8$1$salt$hash' },
          { user_id: user, password_hash: 'scrypt$16384$8$1$salt$hash' },
        ]);
        assert.deepEqual(await store.readStream(user), [expected], 'the event keeps everything but the hash');
        assert.equal(
          await store.replaceCredential(user, 'scrypt$16384$8$1$salt$hash', 'scrypt$new'),
          true,
          'the migrated credential is a real one',
        );
        assert.equal((await store.readCredential(user))?.password_hash, 'scrypt$new');
        assert.equal(await store.readCredential(plain), undefined, 'a first event without a hash is no credential');
      });
    });

    describe('outbox', () => {
      it('finds new events created before the cut-off, oldest first and per stream in order, up to the limit', async () => {
        const store = await makeStore();
        const streams = Array.from({ length: 12 }, () => id('s'));
        // Written newest first so the order of the answer cannot come from the order of writing; 10 events per
        // stream so that a shard holds more than one page.
        for (let i = streams.length - 1; i >= 0; i--) await store.append([counted(streams[i] as string, 0, 10)], opts(at(i * 1000)));
        const late = id('late');
        await store.append([counted(late, 0, 1)], opts(at(60_000)));
        await eventually(async () => {
          const found = await store.findUnpublished(at(60_000), 1000);
          assert.deepEqual(
            found.map((e) => `${e.aggregate_id}@${e.version}`),
            streams.flatMap((s) => Array.from({ length: 10 }, (_, v) => `${s}@${v + 1}`)),
          );
        });
        // Whole transactions (one outbox marker each), as many as fit in the limit, and at least one.
        const some = await store.findUnpublished(at(60_000), 33);
        assert.deepEqual(
          some.map((e) => `${e.aggregate_id}@${e.version}`),
          streams.slice(0, 3).flatMap((s) => Array.from({ length: 10 }, (_, v) => `${s}@${v + 1}`)),
        );
        assert.equal((await store.findUnpublished(at(60_000), 4)).length, 10, 'a transaction larger than the limit still comes whole');
        assert.deepEqual(some[0], (await store.readStream(streams[0] as string))[0], 'whole envelopes');
        assert.deepEqual(await store.findUnpublished(at(0), 10), [], 'the cut-off is exclusive');
        assert.deepEqual(await store.findUnpublished(at(60_000), 0), []);
      });

      it('forgets a transaction once all its events are published; marking is idempotent and never creates events', async () => {
        const store = await makeStore();
        const [a, b, c, ghost] = [id('a'), id('b'), id('c'), id('ghost')];
        const events = await store.append([counted(a, 0, 2), counted(b, 0, 1)], opts());
        const other = await store.append([counted(c, 0, 1)], opts(at(2)));
        // Part of a transaction (the sweeper parked one of its events) leaves the whole transaction marked.
        await store.markPublished([...events.slice(0, 2), ...other]);
        await eventually(async () => {
          assert.deepEqual(
            (await store.findUnpublished(at(10), 10)).map((e) => e.aggregate_id),
            [a, a, b],
          );
        });
        await store.markPublished(events);
        await eventually(async () => assert.deepEqual(await store.findUnpublished(at(10), 10), []));
        await store.markPublished([...events, { aggregate_id: ghost, version: 1 }]);
        await eventually(async () => assert.deepEqual(await store.findUnpublished(at(1), 10), []));
        assert.deepEqual(await store.readStream(ghost), [], 'marking an unknown event must not create it');
        assert.equal((await store.append([counted(ghost, 0, 1)], opts())).length, 1);
        assert.equal((await store.readStream(a)).length, 2, 'publishing keeps the events');
      });
    });

    describe('snapshots', () => {
      it('tells which events exist, for several streams in one call', async () => {
        const store = await makeStore();
        const [s1, s2] = [id('probe'), id('probe')];
        await store.append([counted(s1, 0, 2)], opts());
        assert.deepEqual(
          await store.eventsExist([
            { aggregate_id: s1, version: 2 },
            { aggregate_id: s1, version: 3 },
            { aggregate_id: s2, version: 1 },
            { aggregate_id: s1, version: 1 },
          ]),
          [true, false, false, true],
        );
      });

      it('writes a tip with the events, in the same transaction, and loads several snapshots in one call', async () => {
        const store = await makeStore();
        const [s1, s2, none] = [id('tip'), id('tip'), id('none')];
        await store.append([{ ...counted(s1, 0, 2), tip: { schema_version: 3, state: { n: 2 } } }, counted(s2, 0, 1)], opts());
        // A failed transaction writes no tip either.
        await assert.rejects(
          store.append([{ ...counted(s1, 0, 1), tip: { schema_version: 3, state: { n: 'lost' } } }], opts()),
          ConcurrencyError,
        );
        await store.saveSnapshot({ aggregate_id: s2, version: 1, schema_version: 1, state: { n: 1 } });
        const found = await store.loadSnapshots([s1, s2, none, s1]);
        assert.deepEqual([...found.keys()].sort(), [s1, s2].sort());
        assert.deepEqual(found.get(s1), { aggregate_id: s1, version: 2, schema_version: 3, state: { n: 2 } });
        assert.deepEqual(found.get(s2), { aggregate_id: s2, version: 1, schema_version: 1, state: { n: 1 } });
        // No room for tips in a full transaction: the events go in, the tips are left out.
        const big = id('big');
        await store.append([{ ...counted(big, 0, 100), tip: { schema_version: 1, state: {} } }], opts());
        assert.equal((await store.readStream(big)).length, 100);
        assert.equal(await store.loadSnapshot(big), undefined);
      });

      it('never overwrites a newer snapshot; a higher schema version wins over a higher version', async () => {
        const store = await makeStore();
        const s = id('stream');
        assert.equal(await store.loadSnapshot(s), undefined);
        const snap = (version: number, schema_version = 1) => ({
          aggregate_id: s,
          version,
          schema_version,
          state: { at: version, schema_version, list: [1, { x: '' }] },
        });
        await store.saveSnapshot(snap(10));
        await store.saveSnapshot(snap(5));
        assert.deepEqual(await store.loadSnapshot(s), snap(10));
        await store.saveSnapshot(snap(10));
        await store.saveSnapshot(snap(20));
        assert.deepEqual(await store.loadSnapshot(s), snap(20));
        await store.saveSnapshot(snap(3, 2));
        assert.deepEqual(await store.loadSnapshot(s), snap(3, 2));
        await store.saveSnapshot(snap(30, 1));
        assert.deepEqual(await store.loadSnapshot(s), snap(3, 2), 'old code must not replace the new schema');
      });

      it(
        'loadAggregate with snapshots equals a full replay on a 3,000-event stream and then reads only the tail',
        { timeout: 120_000 },
        async () => {
          const store = await makeStore();
          const s = id('long');
          for (let v = 0; v < 3000; v += 100) await store.append([counted(s, v, 100)], opts(at(v)));
          const full = await loadAggregate(store, s, counter);
          assert.deepEqual([full.state.count, full.state.last, full.version], [3000, 3000, 3000]);
          assert.equal(full.snapshotWrite, undefined);

          const first = await loadAggregate(store, s, { ...counter, snapshot: snapshotPolicy() });
          assert.deepEqual(first.state, full.state);
          assert.ok(first.snapshotWrite, 'a tail of 3,000 events must trigger a snapshot');
          await first.snapshotWrite;
          assert.deepEqual(await store.loadSnapshot(s), { aggregate_id: s, version: 3000, schema_version: 1, state: full.state });

          await store.append([counted(s, 3000, 7)], opts(at(5000)));
          const reads: Array<number | undefined> = [];
          const spy: EventStore = {
            ...store,
            readStream: (aid, o) => {
              reads.push(o?.afterVersion);
              return store.readStream(aid, o);
            },
          };
          const next = await loadAggregate(spy, s, { ...counter, snapshot: snapshotPolicy() });
          assert.deepEqual(next, { state: (await loadAggregate(store, s, counter)).state, version: 3007 });
          assert.deepEqual(reads, [3000], 'only the tail after the snapshot is read');

          reads.length = 0;
          const bumped = await loadAggregate(spy, s, { ...counter, snapshot: snapshotPolicy(2) });
          assert.equal(bumped.version, 3007);
          assert.deepEqual(bumped.state, next.state);
          assert.deepEqual(reads, [0], 'a snapshot of another schema is ignored');
          await bumped.snapshotWrite;
          assert.equal((await store.loadSnapshot(s))?.schema_version, 2);
        },
      );

      it('a short tail does not write a snapshot', async () => {
        const store = await makeStore();
        const s = id('short');
        await store.append([counted(s, 0, 99)], opts());
        const loaded = await loadAggregate(store, s, { ...counter, snapshot: snapshotPolicy() });
        assert.equal(loaded.version, 99);
        assert.equal(loaded.snapshotWrite, undefined);
        assert.equal(await store.loadSnapshot(s), undefined);
      });
    });

    describe('retryOnConflict', () => {
      it('reloads and retries after losing a race, then succeeds', async () => {
        const store = await makeStore();
        const s = id('stream');
        let calls = 0;
        const out = await retryOnConflict(
          async () => {
            calls++;
            const { version } = await loadAggregate(store, s, counter);
            // Another writer gets in between our read and our append, twice.
            if (calls <= 2) await store.append([counted(s, version, 1)], opts());
            return store.append([counted(s, version, 1, 999)], opts());
          },
          { baseDelayMs: 1 },
        );
        assert.equal(calls, 3);
        assert.deepEqual(versions(out), [3]);
        assert.deepEqual(
          (await store.readStream(s)).map((e) => e.data.n),
          [1, 2, 999],
        );
      });

      it('gives up after the last attempt and rethrows the ConcurrencyError', async () => {
        const store = await makeStore();
        const s = id('stream');
        await store.append([counted(s, 0, 1)], opts());
        let calls = 0;
        await assert.rejects(
          retryOnConflict(
            () => {
              calls++;
              return store.append([counted(s, 0, 1)], opts());
            },
            { attempts: 4, baseDelayMs: 1 },
          ),
          (err: unknown) => err instanceof ConcurrencyError && err.aggregateIds[0] === s,
        );
        assert.equal(calls, 4);
      });
    });

    describe('scanAll', () => {
      it('sees every event exactly once, each stream in order, across parallel segments', { timeout: 60_000 }, async () => {
        const store = await makeStore();
        const streams = Array.from({ length: 25 }, () => id('scan'));
        await Promise.all(streams.map((s, i) => store.append([counted(s, 0, 1 + (i % 7))], opts(at(i)))));
        const expected = (await Promise.all(streams.map((s) => store.readStream(s)))).flat();
        for (const segments of [undefined, 1, 3]) {
          const seen: EventEnvelope[] = [];
          let pages = 0;
          await store.scanAll(
            async (page) => {
              pages++;
              seen.push(...page);
            },
            segments === undefined ? {} : { segments },
          );
          const keys = seen.map((e) => `${e.aggregate_id}@${e.version}`);
          assert.equal(new Set(keys).size, keys.length, 'no event twice');
          const byKey = (a: EventEnvelope, b: EventEnvelope) =>
            a.aggregate_id < b.aggregate_id ? -1 : a.aggregate_id > b.aggregate_id ? 1 : a.version - b.version;
          assert.deepEqual([...seen].sort(byKey), [...expected].sort(byKey));
          for (const s of streams)
            assert.deepEqual(versions(seen.filter((e) => e.aggregate_id === s)), versions(expected.filter((e) => e.aggregate_id === s)));
          assert.ok(pages >= 1);
        }
      });

      it('stops every segment and rejects when onPage fails, with no page delivered afterwards', async () => {
        const store = await makeStore();
        await Promise.all(Array.from({ length: 40 }, () => store.append([counted(id('scan'), 0, 5)], opts())));
        let calls = 0;
        await assert.rejects(
          store.scanAll(
            async () => {
              calls++;
              if (calls === 1) throw new Error('projection failed');
              await new Promise((r) => setTimeout(r, 5));
            },
            { segments: 4 },
          ),
          /projection failed/,
        );
        const atRejection = calls;
        await new Promise((r) => setTimeout(r, 300));
        assert.equal(calls, atRejection, 'a segment kept calling onPage after scanAll had failed');
        assert.ok(calls < 200 / 7, 'the other segments stopped early');
      });
    });
  });
}
