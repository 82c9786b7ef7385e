/**
 * The dead-letter record: the original bytes untouched (so it can be replayed onto `ec-events` as is, once the
 * cause is fixed) plus headers saying why, where it came from and which group gave up on it.
 */
import type { IHeaders, KafkaMessage, Message } from 'kafkajs';

export const DLQ_HEADER_ERROR = 'error';
export const DLQ_HEADER_ERROR_STACK = 'error-stack';
export const DLQ_HEADER_ORIGINAL_TOPIC = 'original-topic';
export const DLQ_HEADER_ORIGINAL_PARTITION = 'original-partition';
export const DLQ_HEADER_ORIGINAL_OFFSET = 'original-offset';
export const DLQ_HEADER_CONSUMER_GROUP = 'consumer-group';

// Headers count against the broker's max message size (1 MB by default); a deep stack must not make the
// dead letter itself undeliverable.
const MAX_ERROR_CHARS = 2_000;
const MAX_STACK_CHARS = 8_000;

export interface DeadLetterContext {
  error: unknown;
  topic: string;
  partition: number;
  offset: string;
  groupId: string;
}

export function toDeadLetter(original: Pick<KafkaMessage, 'key' | 'value' | 'headers'>, ctx: DeadLetterContext): Message {
  const err = ctx.error instanceof Error ? ctx.error : new Error(String(ctx.error));
  const headers: IHeaders = {};
  for (const [name, value] of Object.entries(original.headers ?? {})) {
    if (value !== undefined) headers[name] = value;
  }
  headers[DLQ_HEADER_ERROR] = truncate(`${err.name}: ${err.message}`, MAX_ERROR_CHARS);
  headers[DLQ_HEADER_ERROR_STACK] = truncate(err.stack ?? '', MAX_STACK_CHARS);
  headers[DLQ_HEADER_ORIGINAL_TOPIC] = ctx.topic;
  headers[DLQ_HEADER_ORIGINAL_PARTITION] = String(ctx.partition);
  headers[DLQ_HEADER_ORIGINAL_OFFSET] = ctx.offset;
  headers[DLQ_HEADER_CONSUMER_GROUP] = ctx.groupId;
  return { key: original.key, value: original.value, headers };
}

const truncate = (s: string, max: number) => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);
