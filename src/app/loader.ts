/**
 * How one decision of the executor reads its streams. Loads started together (a checkout's products and
 * inventories) read their snapshots in one BatchGetItem. How far a loaded state is trusted depends on the mode:
 * - `tips`: a command's first decision takes a stream's tip (the snapshot its last transaction wrote) as its
 *   head and reads no tail; a stale tip loses the append's optimistic check, and a refusal decided on a tip is
 *   verified before it is answered (the executor decides again in `verify`).
 * - `verify`: snapshot + tail, as loadAggregate always did (after a lost race, or to confirm a refusal).
 * - `locked`: the command holds the streams' in-process queue after waiting for it: a stream the previous holder
 *   just committed is taken from its commit (no read: that state was the head when it committed, and this
 *   command was already waiting then), one nobody here committed since this command's first decision is taken
 *   from that decision; anything else is read as in `verify`.
 */
import { loadAggregate, type Loaded, type LoadOptions } from '../eventstore/aggregate.ts';
import type { EventStore, NewEvent, Snapshot, StreamWrite } from '../eventstore/types.ts';
import type { DomainEvent } from '../shared/decider.ts';

export type LoadMode = 'tips' | 'verify' | 'locked';

export interface StreamSource {
  load<State, Event extends DomainEvent>(aggregateId: string, opts: LoadOptions<State, Event>): Promise<Loaded<State>>;
}

/** A stream as one decision saw it, with what is needed to follow it through the decision's own events. */
export interface Seen {
  loaded: Loaded<unknown>;
  evolve: (state: unknown, event: DomainEvent) => unknown;
  tip?: { schema_version: number; toSnapshot: (state: unknown) => unknown };
  /** The process's commit sequence of the stream when it was read (CommitLog). */
  seq: number;
  /** The version of the stream's stored tip when it was read (none: no tip). */
  tipVersion?: number;
  verified: boolean;
}

/** What this process committed lately: a sequence per stream, and the state after commits others wait for. */
export function createCommitLog() {
  let next = 1;
  const seqs = new Map<string, number>();
  const states = new Map<string, Seen>();
  return {
    seqOf: (id: string) => seqs.get(id) ?? 0,
    /** Records a commit; `after` (the state it left) is kept only for a command queued on the stream. */
    committed(id: string, after: Seen | undefined) {
      seqs.delete(id); // re-inserted last: the map stays in commit order, oldest first
      seqs.set(id, next++);
      if (after) states.set(id, { ...after, seq: seqs.get(id)! });
      else states.delete(id);
      // Bounded: a forgotten stream reads as "never committed", so a later decision on it reads it again
      // unless its first read also saw seq 0 — only possible if its commit came and went before that read.
      if (seqs.size > 100_000) for (const key of [...seqs.keys()].slice(0, 50_000)) seqs.delete(key);
    },
    stateAfterCommit: (id: string) => states.get(id),
    /** Called when the last command queued on a stream is done with it. */
    forget: (id: string) => void states.delete(id),
  };
}

export type CommitLog = ReturnType<typeof createCommitLog>;

/**
 * Snapshot reads of one tick in one request, across every command of the process: a burst of checkouts reads
 * the same product's tip once, and many buyers' cart tips together.
 */
export function batchedSnapshots(store: Pick<EventStore, 'loadSnapshots'>) {
  let pending: Map<string, Array<{ resolve: (s: Snapshot | undefined) => void; reject: (e: unknown) => void }>> | undefined;
  return (id: string): Promise<Snapshot | undefined> =>
    new Promise((resolve, reject) => {
      if (!pending) {
        const batch = new Map<string, Array<{ resolve: (s: Snapshot | undefined) => void; reject: (e: unknown) => void }>>();
        pending = batch;
        // After the microtasks of this tick: Promise.all over several loads has then asked for all of them.
        setImmediate(() => {
          if (pending === batch) pending = undefined;
          store.loadSnapshots([...batch.keys()]).then(
            (found) => batch.forEach((waiters, key) => waiters.forEach((w) => w.resolve(found.get(key)))),
            (err: unknown) => batch.forEach((waiters) => waiters.forEach((w) => w.reject(err))),
          );
        });
      }
      const waiters = pending.get(id) ?? [];
      waiters.push({ resolve, reject });
      pending.set(id, waiters);
    });
}

export function createAttemptSource(deps: {
  store: Pick<EventStore, 'loadSnapshots' | 'loadSnapshot' | 'readStream' | 'saveSnapshot'>;
  /** The process's batched snapshot reader (batchedSnapshots). */
  snapshots: (id: string) => Promise<Snapshot | undefined>;
  mode: LoadMode;
  log: CommitLog;
  /** The command's first decision (mode `locked`). */
  first?: ReadonlyMap<string, Seen>;
}) {
  const seen = new Map<string, Seen>();
  const batched = deps.snapshots;
  const tipVersions = new Map<string, number>();
  const readSnapshot = async (id: string) => {
    const s = await batched(id);
    if (s) tipVersions.set(id, s.version);
    return s;
  };
  const source: StreamSource = {
    async load<State, Event extends DomainEvent>(aggregateId: string, opts: LoadOptions<State, Event>): Promise<Loaded<State>> {
      const seq = deps.log.seqOf(aggregateId);
      if (deps.mode === 'locked') {
        const reused = deps.log.stateAfterCommit(aggregateId) ?? (deps.first?.get(aggregateId)?.seq === seq ? deps.first.get(aggregateId) : undefined);
        if (reused) {
          seen.set(aggregateId, reused);
          return reused.loaded as Loaded<State>;
        }
      }
      const loaded = await loadAggregate(deps.store, aggregateId, { ...opts, readSnapshot, trustSnapshot: deps.mode === 'tips' });
      const policy = opts.snapshot;
      seen.set(aggregateId, {
        loaded,
        evolve: opts.evolve as unknown as Seen['evolve'],
        ...(policy ? { tip: { schema_version: policy.schemaVersion, toSnapshot: policy.toSnapshot as (s: unknown) => unknown } } : {}),
        seq,
        verified: !loaded.unverified,
        ...(tipVersions.has(aggregateId) ? { tipVersion: tipVersions.get(aggregateId)! } : {}),
      });
      return loaded;
    },
  };
  return {
    source,
    seen: seen as ReadonlyMap<string, Seen>,
    /** Whether a decision taken now rests on a tip nobody verified. */
    unverified: () => [...seen.values()].some((s) => !s.verified),
  };
}

const asDomainEvent = (e: NewEvent): DomainEvent => ({ type: e.event_type, data: e.data }) as DomainEvent;

/** A stream's state after the decision's own events, when the decision read it at the version it writes from. */
export function after(seen: Seen | undefined, write: StreamWrite): Seen | undefined {
  if (!seen || seen.loaded.version !== write.expected_version) return undefined;
  const state = write.events.reduce((s, e) => seen.evolve(s, asDomainEvent(e)), seen.loaded.state);
  const version = write.expected_version + write.events.length;
  return { ...seen, loaded: { state, version }, verified: true, ...(seen.tip ? { tipVersion: version } : {}) };
}

/** The writes with their tips: the state after the events, for streams that keep snapshots (tips). */
export function withTips(writes: StreamWrite[], seen: ReadonlyMap<string, Seen>): StreamWrite[] {
  return writes.map((w) => {
    const s = seen.get(w.aggregate_id);
    if (!s?.tip) return w;
    // A guard rewrites a tip only when the decision had to read past it (missing, or behind the head).
    if (w.events.length === 0 && s.tipVersion === w.expected_version) return w;
    const next = after(s, w);
    if (!next) return w;
    try {
      return { ...w, tip: { schema_version: s.tip.schema_version, state: s.tip.toSnapshot(next.loaded.state) } };
    } catch {
      return w; // a state it cannot snapshot: no tip, the next load reads the tail
    }
  });
}
