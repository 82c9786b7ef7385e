/**
 * The event store in memory, for unit tests of application code. Same contract as the DynamoDB store (the
 * suite in contract.ts runs against both): atomic multi-stream appends, conflicts, idempotency, outbox,
 * snapshots. Everything crosses the boundary as JSON copies, as it would through DynamoDB, so a caller that
 * mutates what it got back, or stores what JSON cannot hold, fails here too.
 *
 * One deliberate difference: an expected_version beyond the stream's end (a caller bug that would leave a gap)
 * throws here, while DynamoDB cannot tell and writes the gap.
 */
import { randomUUID } from 'node:crypto';
import type { EventEnvelope } from '../shared/envelope.ts';
import type { StoredIdempotency } from './plan.ts';
import { canonicalIso, jsonCopy, planAppend } from './plan.ts';
import { legacyCredentialOf, LEGACY_CREDENTIAL_FIELD, withoutLegacyCredential } from './legacy.ts';
import type { AppendOptions, Credential, EventStore, IdempotencyRecord, Snapshot, StreamWrite } from './types.ts';
import { ConcurrencyError, IdempotencyKeyTaken } from './types.ts';
import { byOutboxOrder, positiveInt, runAll, stableBucket } from './util.ts';

export interface MemoryEventStoreOptions {
  newId?: () => string;
  /** Epoch ms; read only to tell whether an idempotency record has expired. */
  clock?: () => number;
  /** Events per scanAll page. */
  pageSize?: number;
  /**
   * Events as an older release stored them (e.g. with a legacy password hash, see legacy.ts), placed as they are,
   * bypassing append's checks: for tests of what the store does with existing data.
   */
  storedEvents?: EventEnvelope[];
}

export function createMemoryEventStore(opts: MemoryEventStoreOptions = {}): EventStore {
  const newId = opts.newId ?? randomUUID;
  const clock = opts.clock ?? Date.now;
  const pageSize = positiveInt(opts.pageSize ?? 100, 'pageSize');
  const streams = new Map<string, EventEnvelope[]>();
  /** One entry per unpublished transaction (DynamoDB: a marker on its first event), keyed by each of its events. */
  const outbox = new Map<string, { keys: string[]; events: EventEnvelope[] }>();
  const keyOf = (e: Pick<EventEnvelope, 'aggregate_id' | 'version'>) => `${e.version}:${e.aggregate_id}`;
  const idempotency = new Map<string, StoredIdempotency>();
  const snapshots = new Map<string, Snapshot>();
  /** user_id → password hash: the auth table's credential items. */
  const credentials = new Map<string, string>();
  for (const e of opts.storedEvents ?? []) {
    const stream = streams.get(e.aggregate_id) ?? [];
    stream.push(jsonCopy(e));
    streams.set(e.aggregate_id, stream);
  }
  /** What every reader gets (legacy.ts). */
  const out = (events: EventEnvelope[]): EventEnvelope[] => jsonCopy(events.map(withoutLegacyCredential));
  // Like a network round trip: callers must not depend on an append having happened before it resolves.
  const io = () => new Promise<void>((resolve) => setImmediate(resolve));

  async function append(writes: StreamWrite[], appendOpts: AppendOptions): Promise<EventEnvelope[]> {
    const plan = planAppend(writes, appendOpts, newId);
    await io();
    // From here on everything is synchronous: that is what makes the append atomic.
    if (plan.idempotency) {
      const existing = idempotency.get(plan.idempotency.key);
      if (existing && existing.expires_at > plan.nowSeconds) throw new IdempotencyKeyTaken(plan.idempotency.key);
    }
    const conflicted = new Set<string>();
    for (const write of writes) {
      const current = streams.get(write.aggregate_id)?.length ?? 0;
      if (current > write.expected_version) conflicted.add(write.aggregate_id);
      else if (current < write.expected_version) {
        throw new RangeError(
          `append: expected_version ${write.expected_version} of ${write.aggregate_id} is beyond its end (${current}); it must come from reading the stream`,
        );
      }
    }
    if (plan.credential && credentials.has(plan.credential.user_id)) conflicted.add(plan.credential.user_id);
    if (conflicted.size > 0) throw new ConcurrencyError([...conflicted]);
    if (plan.credential) credentials.set(plan.credential.user_id, plan.credential.password_hash);
    for (const e of plan.envelopes) {
      const stream = streams.get(e.aggregate_id) ?? [];
      stream.push(jsonCopy(e));
      streams.set(e.aggregate_id, stream);
    }
    if (plan.envelopes.length > 0) {
      const tx = { keys: plan.envelopes.map(keyOf), events: jsonCopy(plan.envelopes) };
      for (const k of tx.keys) outbox.set(k, tx);
    }
    for (const tip of plan.tips) snapshots.set(tip.aggregate_id, jsonCopy(tip));
    if (plan.idempotency) idempotency.set(plan.idempotency.key, plan.idempotency);
    return out(plan.envelopes);
  }

  async function readStream(aggregateId: string, o: { afterVersion?: number; toVersion?: number } = {}): Promise<EventEnvelope[]> {
    await io();
    const after = o.afterVersion ?? 0;
    const to = o.toVersion ?? Number.MAX_SAFE_INTEGER;
    return out((streams.get(aggregateId) ?? []).filter((e) => e.version > after && e.version <= to));
  }

  async function findIdempotency(key: string): Promise<IdempotencyRecord | undefined> {
    await io();
    const stored = idempotency.get(key);
    if (!stored || stored.expires_at <= Math.floor(clock() / 1000)) return undefined;
    const { expires_at: _, ...record } = jsonCopy(stored);
    return record;
  }

  async function loadSnapshot(aggregateId: string): Promise<Snapshot | undefined> {
    await io();
    const s = snapshots.get(aggregateId);
    return s ? jsonCopy(s) : undefined;
  }

  async function eventsExist(keys: ReadonlyArray<{ aggregate_id: string; version: number }>): Promise<boolean[]> {
    await io();
    return keys.map((k) => (streams.get(k.aggregate_id)?.length ?? 0) >= k.version && k.version >= 1);
  }

  async function loadSnapshots(aggregateIds: readonly string[]): Promise<Map<string, Snapshot>> {
    await io();
    return new Map(aggregateIds.flatMap((id) => (snapshots.has(id) ? [[id, jsonCopy(snapshots.get(id)!)] as const] : [])));
  }

  async function saveSnapshot(snapshot: Snapshot): Promise<void> {
    await io();
    const old = snapshots.get(snapshot.aggregate_id);
    const newer =
      !old ||
      old.schema_version < snapshot.schema_version ||
      (old.schema_version === snapshot.schema_version && old.version < snapshot.version);
    if (newer) snapshots.set(snapshot.aggregate_id, jsonCopy({ ...snapshot, state: snapshot.state ?? null }));
  }

  async function markPublished(events: ReadonlyArray<Pick<EventEnvelope, 'aggregate_id' | 'version'>>): Promise<void> {
    await io();
    const given = new Set(events.map(keyOf));
    // A transaction is published once all its events are (the sweeper may hold one back, parked).
    for (const key of given) {
      const tx = outbox.get(key);
      if (tx && tx.keys.every((k) => given.has(k))) for (const k of tx.keys) outbox.delete(k);
    }
  }

  async function findUnpublished(createdBefore: string, limit: number): Promise<EventEnvelope[]> {
    const before = canonicalIso(createdBefore, 'createdBefore');
    await io();
    if (limit <= 0) return [];
    const txs = [...new Set(outbox.values())]
      .filter((tx) => tx.events[0]!.created_at < before)
      .sort((a, b) => byOutboxOrder(a.events[0]!, b.events[0]!));
    // Whole transactions, oldest first, up to the limit (at least one), like the DynamoDB store.
    const found: EventEnvelope[] = [];
    for (const tx of txs) {
      if (found.length > 0 && found.length + tx.events.length > limit) break;
      found.push(...tx.events);
    }
    return out(found);
  }

  async function scanAll(onPage: (events: EventEnvelope[]) => Promise<void>, o: { segments?: number } = {}): Promise<void> {
    const segments = positiveInt(o.segments ?? 4, 'segments');
    // Split like DynamoDB's parallel scan: by stream, so one stream's events stay in one segment, in order.
    const bySegment: EventEnvelope[][] = Array.from({ length: segments }, () => []);
    for (const [id, stream] of streams) bySegment[stableBucket(id, segments)]?.push(...stream);
    await runAll(segments, async (segment, stopped) => {
      const events = bySegment[segment] ?? [];
      for (let i = 0; i < events.length && !stopped(); i += pageSize) {
        await io();
        if (!stopped()) await onPage(out(events.slice(i, i + pageSize)));
      }
    });
  }

  async function readCredential(userId: string): Promise<Credential | undefined> {
    await io();
    const known = credentials.get(userId);
    if (known !== undefined) return { user_id: userId, password_hash: known };
    const first = streams.get(userId)?.[0];
    const legacy = legacyCredentialOf(first);
    if (!first || !legacy) return undefined;
    // The migration of legacy.ts, atomically like DynamoDB's transaction (everything here is synchronous).
    credentials.set(userId, legacy);
    const { [LEGACY_CREDENTIAL_FIELD]: _hash, ...data } = first.data;
    first.data = data;
    return { user_id: userId, password_hash: legacy };
  }

  async function replaceCredential(userId: string, previousHash: string, passwordHash: string): Promise<boolean> {
    await io();
    if (credentials.get(userId) !== previousHash) return false;
    credentials.set(userId, passwordHash);
    return true;
  }

  return {
    append,
    readStream,
    findIdempotency,
    eventsExist,
    loadSnapshot,
    loadSnapshots,
    saveSnapshot,
    markPublished,
    findUnpublished,
    scanAll,
    readCredential,
    replaceCredential,
  };
}
