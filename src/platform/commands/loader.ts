/**
 * How one decision of the executor reads its streams. Loads started together (a checkout's products and
 * inventories) read their snapshots in one BatchGetItem. How far a loaded state is trusted depends on the mode:
 * - `tips`: a command's first decision takes a stream's tip (the snapshot its last transaction wrote) as its
 *   head and reads no tail; a stale tip loses the append's optimistic check, and a refusal decided on a tip is
 *   verified before it is answered (the executor decides again in `verify`). A tip-keeping stream this process
 *   committed itself is taken from that commit without reading at all — the same bet as a tip, and as safe —
 *   unless another process was seen writing it lately (a lost check naming it), where reading is cheaper than
 *   losing the transaction.
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
  tip?: {
    schema_version: number;
    toSnapshot: (state: unknown) => unknown;
    /** The policy's reader: which kind of stream this is (a commit is reused only by a load of the same kind). */
    kind: unknown;
  };
  /** The process's commit sequence of the stream when it was read (CommitLog). */
  seq: number;
  /** The version of the stream's stored tip when it was read (none: no tip). */
  tipVersion?: number;
  verified: boolean;
}

/**
 * What this process committed lately: a sequence per stream, and the state each commit left. A command may
 * decide from a state committed after it started (it was the head at that moment, inside the command's
 * lifetime); an older one it must read again.
 */
/** A stream another process was seen writing is read, not taken from this process's commit, for this long. */
const SHARED_FOR_MS = 10_000;

export function createCommitLog(clock: () => number = Date.now) {
  let next = 1;
  const seqs = new Map<string, number>();
  const states = new Map<string, Seen>();
  /** Streams whose append lost to another process, and when. */
  const shared = new Map<string, number>();
  return {
    /** The sequence of the latest commit of this process (a command's start). */
    now: () => next - 1,
    seqOf: (id: string) => seqs.get(id) ?? 0,
    /** Records a commit and, when known, the state it left. */
    committed(id: string, after: Seen | undefined) {
      const seq = next++;
      seqs.delete(id); // re-inserted last: the maps stay in commit order, oldest first
      seqs.set(id, seq);
      states.delete(id);
      if (after) states.set(id, { ...after, seq });
      // Bounded: a forgotten stream reads as "never committed", so a later decision on it reads it again
      // unless its first read also saw seq 0 — only possible if its commit came and went before that read.
      if (seqs.size > 100_000) for (const key of [...seqs.keys()].slice(0, 50_000)) seqs.delete(key);
      if (states.size > 10_000) for (const key of [...states.keys()].slice(0, 5_000)) states.delete(key);
    },
    /** The state the stream's latest commit here left, if that commit came after `since`. */
    stateAfterCommit: (id: string, since: number) => {
      const s = states.get(id);
      return s && s.seq > since ? s : undefined;
    },
    /** The state this process's latest commit of a tip-keeping stream left, unless another process writes it too. */
    lastCommitted(id: string): Seen | undefined {
      const s = states.get(id);
      if (!s?.tip) return undefined;
      const lost = shared.get(id);
      if (lost !== undefined && clock() - lost < SHARED_FOR_MS) return undefined;
      return s;
    },
    /** An append lost on these streams: another process writes them; what this process committed is stale. */
    lost(ids: Iterable<string>) {
      const t = clock();
      for (const id of ids) {
        states.delete(id);
        shared.delete(id);
        shared.set(id, t);
      }
      if (shared.size > 10_000) for (const key of [...shared.keys()].slice(0, 5_000)) shared.delete(key);
    },
  };
}

export type CommitLog = ReturnType<typeof createCommitLog>;

/** Reads of one tick in one request, across every command of the process (after the tick's microtasks). */
function batched<V>(fetch: (keys: string[]) => Promise<Map<string, V>>) {
  type Waiter = { resolve: (v: V | undefined) => void; reject: (e: unknown) => void };
  let pending: Map<string, Waiter[]> | undefined;
  return (key: string): Promise<V | undefined> =>
    new Promise((resolve, reject) => {
      if (!pending) {
        const batch = new Map<string, Waiter[]>();
        pending = batch;
        setImmediate(() => {
          if (pending === batch) pending = undefined;
          fetch([...batch.keys()]).then(
            (found) => batch.forEach((waiters, k) => waiters.forEach((w) => w.resolve(found.get(k)))),
            (err: unknown) => batch.forEach((waiters) => waiters.forEach((w) => w.reject(err))),
          );
        });
      }
      const waiters = pending.get(key) ?? [];
      waiters.push({ resolve, reject });
      pending.set(key, waiters);
    });
}

/** A burst of checkouts reads a hot product's tip once, and many buyers' cart tips together. */
export const batchedSnapshots = (store: Pick<EventStore, 'loadSnapshots'>) => batched((ids) => store.loadSnapshots(ids));

/** "Has this stream moved past its tip?" for several streams (and commands) in one request. */
export function batchedProbe(store: Pick<EventStore, 'eventsExist'>) {
  const probe = batched(async (keys) => {
    const parsed = keys.map((k) => ({ aggregate_id: k.slice(k.indexOf(':') + 1), version: Number(k.slice(0, k.indexOf(':'))) }));
    const exist = await store.eventsExist(parsed);
    return new Map(keys.map((k, i) => [k, exist[i] ?? true]));
  });
  /** True when none of the streams has an event after the version the decision read. */
  return async (seen: Iterable<Seen>, ids: Iterable<string>): Promise<boolean> => {
    const list = [...ids];
    const moved = await Promise.all([...seen].map((s, i) => probe(`${s.loaded.version + 1}:${list[i]}`)));
    return moved.every((m) => m === false);
  };
}

export function createAttemptSource(deps: {
  store: Pick<EventStore, 'loadSnapshots' | 'loadSnapshot' | 'readStream' | 'saveSnapshot'>;
  /** The process's batched snapshot reader (batchedSnapshots). */
  snapshots: (id: string) => Promise<Snapshot | undefined>;
  mode: LoadMode;
  log: CommitLog;
  /** The command's first decision (mode `locked`). */
  first?: ReadonlyMap<string, Seen>;
  /** CommitLog.now() when the command started. */
  startedAt: number;
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
      if (deps.mode === 'tips' && opts.snapshot) {
        const mine = deps.log.lastCommitted(aggregateId);
        if (mine?.tip?.kind === opts.snapshot.fromSnapshot) {
          // Not verified: another process may have moved it since; the append's check (or the probe) tells.
          seen.set(aggregateId, { ...mine, verified: false });
          return mine.loaded as Loaded<State>;
        }
      }
      if (deps.mode === 'locked') {
        const reused =
          deps.log.stateAfterCommit(aggregateId, deps.startedAt) ??
          (deps.first?.get(aggregateId)?.seq === seq ? deps.first.get(aggregateId) : undefined);
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
        ...(policy
          ? {
              tip: {
                schema_version: policy.schemaVersion,
                toSnapshot: policy.toSnapshot as (s: unknown) => unknown,
                kind: policy.fromSnapshot,
              },
            }
          : {}),
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
    /** The streams read from a tip nobody verified. */
    unverifiedStreams: () => [...seen].filter(([, s]) => !s.verified),
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
