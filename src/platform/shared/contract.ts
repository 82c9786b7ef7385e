/**
 * Event contracts: one zod schema per event type, from which the deciders' types are derived (z.infer) and
 * with which every consumer decodes an event once, where it enters (projector, notifier, worker). Events carry
 * `schema_version`; a contract at version N lists the upcasters that turn data of version n < N into n + 1,
 * applied on read (the event store and the consumers' decode), so the stored history is never rewritten and
 * code only ever sees the current shape.
 *
 * Unknown keys are stripped on decode: a consumer sees exactly the fields of the contract, and a producer may
 * add fields (a newer release) without breaking older consumers.
 */
import { z } from 'zod';
import type { EventEnvelope } from './envelope.ts';

/** Field builders with the messages a dead letter should carry ("data.total must be an integer"). */
export const f = {
  str: () => z.string({ error: 'a string' }),
  /** Non-empty. */
  text: () => z.string({ error: 'a non-empty string' }).min(1, { error: 'a non-empty string' }),
  int: () => z.int({ error: 'an integer' }),
  /** Integer yen. Events are JSON: a number within Number.MAX_SAFE_INTEGER. */
  yen: () => z.int({ error: 'an integer' }),
  /** An ISO-8601 instant (what Date.parse reads; events of every release so far pass). */
  time: () => z.string({ error: 'an ISO-8601 timestamp' }).refine((v) => !Number.isNaN(Date.parse(v)), { error: 'an ISO-8601 timestamp' }),
  oneOf: <const T extends readonly [string, ...string[]]>(values: T) => z.enum(values, { error: `one of ${values.join(', ')}` }),
};

/** Upgrades the data of version n (the key) to version n + 1. Pure; gets the envelope for defaults (created_at). */
export type Upcaster = (data: Record<string, unknown>, event: EventEnvelope) => Record<string, unknown>;

export interface EventContract<T extends string = string, S extends z.ZodType = z.ZodType> {
  readonly type: T;
  readonly schema: S;
  /** The current schema_version: what the write side stamps on new events and what decode returns. */
  readonly version: number;
  readonly upcasters: Readonly<Record<number, Upcaster>>;
  /**
   * Fills fields that events of early releases (all schema_version 1) lack but the envelope implies — a
   * timestamp is the envelope's created_at, an id follows from the stream id. Applied on every read, before the
   * upcasters; fills only what is absent.
   */
  readonly fill?: Upcaster;
}

export function defineEvent<const T extends string, S extends z.ZodType>(
  type: T,
  schema: S,
  opts: { version?: number; upcasters?: Record<number, Upcaster>; fill?: Upcaster } = {},
): EventContract<T, S> {
  const version = opts.version ?? 1;
  const upcasters = opts.upcasters ?? {};
  for (let v = 1; v < version; v++) if (!upcasters[v]) throw new Error(`contract ${type}: no upcaster from version ${v} to ${v + 1}`);
  return { type, schema, version, upcasters, ...(opts.fill ? { fill: opts.fill } : {}) };
}

/** A `fill` that sets each absent (or null) key to what `from` derives from the envelope. */
export const fillMissing =
  (from: Record<string, (event: EventEnvelope) => unknown>): Upcaster =>
  (data, event) => {
    const missing = Object.keys(from).filter((k) => data[k] === undefined || data[k] === null);
    if (missing.length === 0) return data;
    const out = { ...data };
    for (const k of missing) out[k] = from[k]!(event);
    return out;
  };

/** The envelope's created_at, for timestamps early events did not carry. */
export const createdAt = (event: EventEnvelope): string => event.created_at;

/** The data type of a contract (what the decider emits and a consumer receives). */
export type DataOf<C> = C extends EventContract<string, infer S> ? z.output<S> : never;

/** An envelope whose data has been decoded by its contract: a member of a union discriminated by event_type. */
export type TypedEnvelope<C> =
  C extends EventContract<infer T, infer S> ? Omit<EventEnvelope<z.output<S>>, 'event_type'> & { event_type: T } : never;

/** An event's data does not satisfy its contract. Not transient: the same bytes fail the same way every time. */
export class EventDataError extends Error {
  readonly transient = false;
  constructor(
    readonly event: Pick<EventEnvelope, 'event_id' | 'event_type' | 'aggregate_id' | 'version'>,
    readonly problems: string[],
  ) {
    super(`${event.event_type} ${event.aggregate_id}@${event.version} (${event.event_id}): ${problems.join('; ')}`);
    this.name = 'EventDataError';
  }
}

const pathOf = (path: readonly PropertyKey[]) =>
  path.reduce<string>((s, k) => (typeof k === 'number' ? `${s}[${k}]` : `${s}.${String(k)}`), 'data');

export interface ContractRegistry<C extends EventContract> {
  /** The contract of an event type, if any. */
  get(type: string): C | undefined;
  /** The current schema_version of an event type (1 for types without a contract). */
  currentVersion(type: string): number;
  /** The envelope with its data upcast to the current version (unchanged if already current or unknown). */
  upcast<E extends EventEnvelope>(event: E): E;
  /**
   * Upcasts and validates. Unknown event types give undefined (a consumer skips what it does not know: a newer
   * producer may emit types this release has never heard of). A known type with bad data throws EventDataError.
   */
  decode(event: EventEnvelope): TypedEnvelope<C> | undefined;
}

export function createContractRegistry<C extends EventContract>(contracts: readonly C[]): ContractRegistry<C> {
  const byType = new Map<string, C>();
  for (const c of contracts) {
    if (byType.has(c.type)) throw new Error(`two contracts for event type ${c.type}`);
    byType.set(c.type, c);
  }
  const upcast = <E extends EventEnvelope>(event: E): E => {
    const contract = byType.get(event.event_type);
    if (!contract) return event;
    const from = event.schema_version ?? 1;
    const raw = event.data as Record<string, unknown>;
    let data = contract.fill && typeof raw === 'object' && raw !== null ? contract.fill(raw, event) : raw;
    for (let v = from; v < contract.version; v++) data = contract.upcasters[v]!(data, event);
    if (data === raw && from >= contract.version) return event;
    return { ...event, data, schema_version: Math.max(from, contract.version) };
  };
  return {
    get: (type) => byType.get(type),
    currentVersion: (type) => byType.get(type)?.version ?? 1,
    upcast,
    decode(event) {
      const contract = byType.get(event.event_type);
      if (!contract) return undefined;
      const current = upcast(event);
      // A newer schema_version (a newer producer in a rolling deploy) is parsed as is: additive changes pass,
      // anything else fails on the field it broke.
      const parsed = contract.schema.safeParse(current.data);
      if (!parsed.success)
        throw new EventDataError(
          event,
          parsed.error.issues.map((i) => `${pathOf(i.path)} must be ${i.message}`),
        );
      return { ...current, data: parsed.data } as TypedEnvelope<C>;
    },
  };
}
