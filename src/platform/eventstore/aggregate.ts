/**
 * What the command layer needs around a decider: load the state (snapshot + tail) and rerun the whole
 * read → decide → append cycle when the optimistic lock is lost.
 */
import type { DomainEvent } from '../shared/decider.ts';
import type { EventStore, Snapshot } from './types.ts';
import { ConcurrencyError } from './types.ts';
import { exponentialDelay, retry } from '../shared/retry.ts';

export interface SnapshotPolicy<State> {
  /** Bump whenever the state's shape (or evolve's meaning) changes: older snapshots are then ignored. */
  schemaVersion: number;
  /** Save a snapshot once this many events had to be folded after the last one (e.g. 100). */
  every: number;
  /** To JSON-safe data (a Map becomes entries, …): snapshots are stored as JSON. */
  toSnapshot: (state: State) => unknown;
  /** undefined for data it cannot read (corrupt, unknown shape): the whole stream is replayed instead. */
  fromSnapshot: (data: unknown) => State | undefined;
}

export interface LoadOptions<State, Event extends DomainEvent> {
  initialState: () => State;
  evolve: (state: State, event: Event) => State;
  snapshot?: SnapshotPolicy<State>;
  /** Where a failed snapshot write is reported (default console.warn); it never fails the load. */
  onSnapshotError?: (err: unknown, aggregateId: string) => void;
  /** How to read the snapshot (default store.loadSnapshot; the executor batches several into one request). */
  readSnapshot?: (aggregateId: string) => Promise<Snapshot | undefined>;
  /**
   * Take a usable snapshot as the stream's tip and read no tail. Commands write the tip in their transaction, so
   * it is the head unless a writer skipped it; a decision on a stale tip loses the append's optimistic check, and
   * the executor verifies (reads the tail) before it answers a refusal. Off by default.
   */
  trustSnapshot?: boolean;
}

export interface Loaded<State> {
  state: State;
  /** The stream version the state reflects: the expected_version of the next append. */
  version: number;
  /** The snapshot write this load started, if any. It never rejects; await it only in tests and at shutdown. */
  snapshotWrite?: Promise<void>;
  /** True when the state is the snapshot's alone, taken as the tip without reading the tail (trustSnapshot). */
  unverified?: boolean;
}

/**
 * The stored events are trusted to be the decider's own (the store only holds what its decide produced), so
 * an envelope becomes `{ type, data }` without validation. A snapshot is used only if its schema matches;
 * otherwise the whole stream is replayed, which is slower but always right.
 */
export async function loadAggregate<State, Event extends DomainEvent>(
  store: Pick<EventStore, 'loadSnapshot' | 'readStream' | 'saveSnapshot'>,
  aggregateId: string,
  opts: LoadOptions<State, Event>,
): Promise<Loaded<State>> {
  const policy = opts.snapshot;
  const snapshot = policy ? await (opts.readSnapshot ?? store.loadSnapshot)(aggregateId) : undefined;
  const restored = snapshot && policy && snapshot.schema_version === policy.schemaVersion ? policy.fromSnapshot(snapshot.state) : undefined;
  let state = restored ?? opts.initialState();
  let version = restored !== undefined && snapshot ? snapshot.version : 0;
  if (restored !== undefined && opts.trustSnapshot) return { state, version, unverified: true };
  const tail = await store.readStream(aggregateId, { afterVersion: version });
  for (const e of tail) {
    // A hole would mean a state built on missing history; better to refuse the command than decide on it.
    if (e.version !== version + 1) throw new Error(`stream ${aggregateId} jumps from version ${version} to ${e.version}`);
    state = opts.evolve(state, { type: e.event_type, data: e.data } as Event);
    version = e.version;
  }
  if (!policy || tail.length < policy.every) return { state, version };
  const onError =
    opts.onSnapshotError ?? ((err: unknown, id: string) => console.warn(`snapshot of ${id} at version ${version} not saved:`, err));
  let data: unknown;
  try {
    data = policy.toSnapshot(state);
  } catch (err) {
    onError(err, aggregateId);
    return { state, version };
  }
  // Not awaited: the command must not wait for, or fail because of, an optimisation.
  const snapshotWrite = store
    .saveSnapshot({ aggregate_id: aggregateId, version, schema_version: policy.schemaVersion, state: data })
    .catch((err: unknown) => onError(err, aggregateId));
  return { state, version, snapshotWrite };
}

export interface RetryOptions {
  /** Total tries, the first included (default 5). */
  attempts?: number;
  /** Upper bound of the first backoff; it doubles each time (default 10 ms). */
  baseDelayMs?: number;
  /** Cap on any single backoff (default 1 s). */
  maxDelayMs?: number;
  /** Injected in tests. */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Reruns `fn` — which must reload, decide again and append — when it throws ConcurrencyError. Backoff is
 * exponential with full jitter (a random delay in [0, base·2^n]): with contention on one hot stream, fixed
 * delays would make the losers collide again in lockstep. After the last attempt the ConcurrencyError is
 * rethrown for the HTTP layer to answer 409; any other error is rethrown at once.
 */
export async function retryOnConflict<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const backoff = { initialMs: opts.baseDelayMs ?? 10, maxMs: opts.maxDelayMs ?? 1000, jitter: 'full' as const };
  return retry(fn, {
    attempts: opts.attempts ?? 5,
    retryable: (err) => err instanceof ConcurrencyError,
    delayMs: (attempt) => exponentialDelay(attempt, backoff, opts.random),
    ...(opts.sleep ? { sleep: opts.sleep } : {}),
  });
}
