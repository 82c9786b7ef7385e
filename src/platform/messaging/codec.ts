/**
 * The wire form of an event on the events topic (docs/kafka.md). Encoding is total; decoding trusts nothing, because
 * the topic can hold anything a client ever wrote to it, and a consumer that crashes on one bad record would
 * stop its whole partition: undecodable input becomes a PoisonMessageError the consumer routes to the DLQ.
 */
import type { AggregateType, EventEnvelope, EventMetadata } from '../shared/envelope.ts';
import { instantMs } from '../shared/validate.ts';

const HEADER_EVENT_TYPE = 'event-type';
const HEADER_AGGREGATE_TYPE = 'aggregate-type';
const HEADER_EVENT_ID = 'event-id';
const HEADER_VERSION = 'version';

/** Structurally a kafkajs `Message`, with the fields we always set made non-optional. */
export interface EncodedMessage {
  key: string;
  value: string;
  headers: Record<string, string>;
}

/**
 * Key = aggregate id: Kafka only orders records within a partition, and the partitioner maps equal keys to
 * the same partition, so every event of one aggregate is consumed in the order it was produced.
 */
export function encodeEnvelope(event: EventEnvelope): EncodedMessage {
  // Built field by field so nothing beyond the contract (e.g. the store's outbox marker) leaks onto the topic.
  const wire: EventEnvelope = {
    event_id: event.event_id,
    aggregate_id: event.aggregate_id,
    aggregate_type: event.aggregate_type,
    event_type: event.event_type,
    version: event.version,
    data: event.data,
    metadata: event.metadata,
    created_at: event.created_at,
    schema_version: event.schema_version,
  };
  return {
    key: event.aggregate_id,
    value: JSON.stringify(wire),
    headers: {
      [HEADER_EVENT_TYPE]: event.event_type,
      [HEADER_AGGREGATE_TYPE]: event.aggregate_type,
      [HEADER_EVENT_ID]: event.event_id,
      [HEADER_VERSION]: String(event.version),
    },
  };
}

export type PoisonReason = 'empty' | 'invalid_utf8' | 'invalid_json' | 'invalid_envelope';

/** A record that can never be decoded, however often it is retried: it belongs in the DLQ, not in a retry loop. */
export class PoisonMessageError extends Error {
  readonly reason: PoisonReason;
  /** Every broken field, so one look at the DLQ header says what the producer got wrong. */
  readonly problems: string[];

  constructor(reason: PoisonReason, message: string, problems: string[] = []) {
    super(message);
    this.name = 'PoisonMessageError';
    this.reason = reason;
    this.problems = problems;
  }
}

const AGGREGATE_TYPES = [
  'User',
  'EmailClaim',
  'Category',
  'CategoryNameClaim',
  'Product',
  'Inventory',
  'Cart',
  'Order',
  'Shipment',
] as const satisfies readonly AggregateType[];
// Fails to compile when envelope.ts gains an aggregate type this list does not know yet.
const _everyAggregateTypeListed: [Exclude<AggregateType, (typeof AGGREGATE_TYPES)[number]>] extends [never] ? true : false = true;

const METADATA_FIELDS = ['correlation_id', 'causation_id', 'user_id'] as const satisfies readonly (keyof EventMetadata)[];

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNonEmptyString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isPositiveInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 1;

export function decodeEnvelope(value: Buffer | string | null | undefined): EventEnvelope {
  if (value === null || value === undefined || value.length === 0) {
    throw new PoisonMessageError('empty', 'message has no value');
  }
  let text: string;
  try {
    // fatal: invalid UTF-8 would otherwise turn into U+FFFD inside ids and data and be stored silently.
    text = typeof value === 'string' ? value : new TextDecoder('utf-8', { fatal: true }).decode(value);
  } catch {
    throw new PoisonMessageError('invalid_utf8', 'message value is not valid UTF-8');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new PoisonMessageError('invalid_json', `message value is not JSON: ${(err as Error).message}`);
  }
  return validateEnvelope(parsed);
}

function validateEnvelope(v: unknown): EventEnvelope {
  if (!isRecord(v)) throw new PoisonMessageError('invalid_envelope', 'message value is not a JSON object', ['value: must be an object']);
  const problems: string[] = [];
  const need = (ok: boolean, problem: string) => {
    if (!ok) problems.push(problem);
  };
  need(isNonEmptyString(v.event_id), 'event_id: must be a non-empty string');
  need(isNonEmptyString(v.aggregate_id), 'aggregate_id: must be a non-empty string');
  need((AGGREGATE_TYPES as readonly unknown[]).includes(v.aggregate_type), `aggregate_type: must be one of ${AGGREGATE_TYPES.join(', ')}`);
  need(isNonEmptyString(v.event_type), 'event_type: must be a non-empty string');
  need(isPositiveInt(v.version), 'version: must be an integer >= 1');
  need(isRecord(v.data), 'data: must be an object');
  need(isRecord(v.metadata), 'metadata: must be an object');
  if (isRecord(v.metadata)) {
    for (const field of METADATA_FIELDS) {
      const m = v.metadata[field];
      need(m === undefined || typeof m === 'string', `metadata.${field}: must be a string`);
    }
  }
  need(!Number.isNaN(instantMs(v.created_at)), 'created_at: must be an ISO-8601 instant');
  // Absent means 1: §4 lists the envelope without it, so a producer that follows only §4 stays readable.
  need(v.schema_version === undefined || isPositiveInt(v.schema_version), 'schema_version: must be an integer >= 1');
  if (problems.length > 0) {
    throw new PoisonMessageError('invalid_envelope', `invalid event envelope: ${problems.join('; ')}`, problems);
  }
  return {
    event_id: v.event_id as string,
    aggregate_id: v.aggregate_id as string,
    aggregate_type: v.aggregate_type as AggregateType,
    event_type: v.event_type as string,
    version: v.version as number,
    data: v.data as Record<string, unknown>,
    metadata: v.metadata as EventMetadata,
    created_at: v.created_at as string,
    schema_version: (v.schema_version as number | undefined) ?? 1,
  };
}
