/**
 * The DynamoDB item layout of the event store (docs/event-store.md) and its codecs. Items are marshalled by hand:
 * the shapes are small and fixed, and it keeps the store independent of a DocumentClient's translateConfig.
 *
 * `data`, snapshot `state` and idempotency `body` are JSON strings, not maps: a string round-trips exactly what
 * JSON.stringify produced (key order, empty strings and arrays, any number JSON can hold, `null`), while a map
 * would reorder keys, reject numbers DynamoDB cannot hold and cost a marshalling pass on every read. Nothing
 * queries inside them; the read models in PostgreSQL are where events are queried.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { AggregateType, EventEnvelope, EventMetadata } from '../shared/envelope.ts';
import type { StoredIdempotency } from './plan.ts';
import { normaliseMetadata } from './plan.ts';
import { withoutLegacyCredential } from './legacy.ts';
import { stableBucket } from './util.ts';
import type { Credential, Snapshot } from './types.ts';

export type Item = Record<string, AttributeValue>;

export interface EventStoreTables {
  events: string;
  snapshots: string;
  idempotency: string;
  /** Credentials and refresh-token families (see AUTH_KEY); default `auth`. */
  auth?: string;
}

export const DEFAULT_TABLES: Required<EventStoreTables> = {
  events: 'events',
  snapshots: 'event_snapshots',
  idempotency: 'idempotency_keys',
  auth: 'auth',
};

export const authTableOf = (tables: EventStoreTables): string => tables.auth ?? DEFAULT_TABLES.auth;

/**
 * The auth table holds what must never be an event: password hashes (`credential#<user_id>`) and refresh-token
 * families (`session#<family_id>`, src/platform/eventstore/sessions.ts), under one string partition key. Only session
 * items carry EXPIRES_AT, so DynamoDB's TTL reclaims ended sessions and never touches a credential.
 */
export const AUTH_KEY = 'pk';
export const credentialKey = (userId: string): Item => ({ [AUTH_KEY]: { S: `credential#${userId}` } });

export const credentialItem = (c: Credential, now: string): Item => ({
  ...credentialKey(c.user_id),
  kind: { S: 'credential' },
  user_id: { S: c.user_id },
  password_hash: { S: c.password_hash },
  updated_at: { S: now },
});

export const credentialFromItem = (item: Item): Credential => ({
  user_id: str(item, 'user_id'),
  password_hash: str(item, 'password_hash'),
});

/**
 * The sparse outbox index: only unpublished events carry its two key attributes. Its partition key is a shard
 * number derived from the aggregate id, so unpublished events spread over several partitions instead of one
 * constant (hot) key, and one stream's events stay in one shard.
 */
export const OUTBOX_INDEX = 'outbox';
export const OUTBOX_SHARD = 'outbox_shard';
export const OUTBOX_AT = 'outbox_at';
/**
 * The outbox is one marker per transaction, on its first event's item: the index's two key attributes plus the
 * transaction's other events (JSON envelopes), so the sweeper gets the whole transaction from the index and
 * clearing it is one UpdateItem. Items written by older releases carry the key attributes on every event.
 */
export const OUTBOX_EVENTS = 'outbox_events';
export const DEFAULT_OUTBOX_SHARDS = 8;
/** The idempotency table's TTL attribute (epoch seconds). */
export const EXPIRES_AT = 'expires_at';

/**
 * Stable across processes and releases (writers and the sweeper must agree). Changing the shard count strands
 * the events in shards a sweeper no longer queries: only ever raise it, and give sweepers the largest count.
 */
export const outboxShard = (aggregateId: string, shards: number): string => String(stableBucket(aggregateId, shards));

/** An event's item; with a shard it is its transaction's outbox marker (`rest`: the transaction's other events). */
export const eventItem = (e: EventEnvelope, shard?: string, rest?: EventEnvelope[]): Item => ({
  aggregate_id: { S: e.aggregate_id },
  version: { N: String(e.version) },
  event_id: { S: e.event_id },
  aggregate_type: { S: e.aggregate_type },
  event_type: { S: e.event_type },
  data: { S: JSON.stringify(e.data) },
  metadata: { M: metadataMap(e.metadata) },
  created_at: { S: e.created_at },
  schema_version: { N: String(e.schema_version) },
  ...(shard === undefined ? {} : { [OUTBOX_SHARD]: { S: shard }, [OUTBOX_AT]: { S: e.created_at } }),
  ...(rest === undefined ? {} : { [OUTBOX_EVENTS]: { S: JSON.stringify(rest) } }),
});

/** The events of the transaction an outbox marker stands for, the marker's own first. */
export const outboxEventsFromItem = (item: Item): EventEnvelope[] => {
  const first = envelopeFromItem(item);
  const rest = item[OUTBOX_EVENTS]?.S;
  return rest === undefined ? [first] : [first, ...(JSON.parse(rest) as EventEnvelope[]).map(withoutLegacyCredential)];
};

/** What readers get: a legacy password hash never leaves the store (legacy.ts). */
export const envelopeFromItem = (item: Item): EventEnvelope => withoutLegacyCredential(storedEnvelopeFromItem(item));

/** The event exactly as stored, legacy fields included: only for the credential migration. */
export const storedEnvelopeFromItem = (item: Item): EventEnvelope => ({
  event_id: str(item, 'event_id'),
  aggregate_id: str(item, 'aggregate_id'),
  aggregate_type: str(item, 'aggregate_type') as AggregateType,
  event_type: str(item, 'event_type'),
  version: num(item, 'version'),
  data: JSON.parse(str(item, 'data')) as Record<string, unknown>,
  metadata: metadataFromMap(item.metadata?.M ?? {}),
  created_at: str(item, 'created_at'),
  schema_version: num(item, 'schema_version'),
});

export const snapshotItem = (s: Snapshot): Item => ({
  aggregate_id: { S: s.aggregate_id },
  version: { N: String(s.version) },
  schema_version: { N: String(s.schema_version) },
  state: { S: JSON.stringify(s.state ?? null) },
});

export const snapshotFromItem = (item: Item): Snapshot => ({
  aggregate_id: str(item, 'aggregate_id'),
  version: num(item, 'version'),
  schema_version: num(item, 'schema_version'),
  state: JSON.parse(str(item, 'state')) as unknown,
});

export const idempotencyItem = (r: StoredIdempotency): Item => ({
  key: { S: r.key },
  request_hash: { S: r.request_hash },
  status: { N: String(r.status) },
  body: { S: JSON.stringify(r.body) },
  [EXPIRES_AT]: { N: String(r.expires_at) },
});

export const idempotencyFromItem = (item: Item): StoredIdempotency => ({
  key: str(item, 'key'),
  request_hash: str(item, 'request_hash'),
  status: num(item, 'status'),
  body: JSON.parse(str(item, 'body')) as unknown,
  expires_at: num(item, EXPIRES_AT),
});

const metadataMap = (m: EventMetadata): Item => Object.fromEntries(Object.entries(normaliseMetadata(m)).map(([k, v]) => [k, { S: v }]));

const metadataFromMap = (m: Item): EventMetadata =>
  Object.fromEntries(Object.entries(m).flatMap(([k, v]) => (v.S === undefined ? [] : [[k, v.S]])));

// A missing attribute means a corrupt or foreign item: fail loudly rather than fold garbage into a state.
const str = (item: Item, name: string): string => {
  const v = item[name]?.S;
  if (v === undefined) throw new Error(`event store item ${describe(item)} has no string attribute ${name}`);
  return v;
};

const num = (item: Item, name: string): number => {
  const v = item[name]?.N;
  if (v === undefined) throw new Error(`event store item ${describe(item)} has no number attribute ${name}`);
  return Number(v);
};

const describe = (item: Item): string => `${item.aggregate_id?.S ?? item.key?.S ?? '?'}@${item.version?.N ?? '-'}`;
