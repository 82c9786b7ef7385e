/**
 * Operating the dead-letter topic: list what consumers gave up on, put a record back onto `ec-events` after
 * the cause is fixed (replay), or record that it is not to be replayed (discard). Kafka cannot delete single
 * records, so what was done with each one is kept in PostgreSQL (dead_letter_resolutions, an ops table).
 *
 * A dead letter's id is `<partition>:<offset>` in the DLQ topic. Reading is done by a throw-away consumer group
 * that reads the topic from the start up to the high watermarks taken when the call began, so a listing is a
 * consistent snapshot and never commits anything another reader depends on. Fine for an ops tool (the DLQ is
 * small); not for a hot path.
 */
import { randomUUID } from 'node:crypto';
import type { IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import type { Queryable } from '../readmodel/db.ts';
import { AppError } from '../shared/errors.ts';
import {
  DLQ_HEADER_CONSUMER_GROUP,
  DLQ_HEADER_ERROR,
  DLQ_HEADER_ERROR_STACK,
  DLQ_HEADER_ORIGINAL_OFFSET,
  DLQ_HEADER_ORIGINAL_PARTITION,
  DLQ_HEADER_ORIGINAL_TOPIC,
} from './dlq.ts';
import { producerFor } from './publisher.ts';

const DLQ_HEADERS = new Set([
  DLQ_HEADER_ERROR,
  DLQ_HEADER_ERROR_STACK,
  DLQ_HEADER_ORIGINAL_TOPIC,
  DLQ_HEADER_ORIGINAL_PARTITION,
  DLQ_HEADER_ORIGINAL_OFFSET,
  DLQ_HEADER_CONSUMER_GROUP,
]);

export interface DeadLetter {
  id: string;
  partition: number;
  offset: string;
  key: string | null;
  error: string | null;
  consumer_group: string | null;
  original: { topic: string | null; partition: number | null; offset: string | null };
  event_type: string | null;
  event_id: string | null;
  /** open, or what was done with it and when. */
  status: 'open' | 'replayed' | 'discarded';
  resolved_at: string | null;
}

export interface DeadLetterAdmin {
  list(opts?: { status?: DeadLetter['status']; limit?: number }): Promise<DeadLetter[]>;
  replay(id: string): Promise<DeadLetter>;
  discard(id: string): Promise<DeadLetter>;
}

export interface DeadLetterAdminOptions {
  kafka: Kafka;
  db: Queryable;
  dlqTopic: string;
  targetTopic: string;
  /** A read of the topic gives up after this long (a broker that does not answer). Default 20 s. */
  timeoutMs?: number;
}

const ID = /^(\d{1,5}):(\d{1,19})$/;
const text = (h: IHeaders | undefined, name: string): string | null => {
  const v = h?.[name];
  const one = Array.isArray(v) ? v[0] : v;
  return one === undefined ? null : Buffer.isBuffer(one) ? one.toString('utf8') : String(one);
};

export function createDeadLetterAdmin(opts: DeadLetterAdminOptions): DeadLetterAdmin {
  const dlqTopic = opts.dlqTopic;
  const target = opts.targetTopic;
  const timeoutMs = opts.timeoutMs ?? 20_000;

  /** Every record of the DLQ up to the high watermarks of this moment. */
  async function scan(): Promise<Array<{ partition: number; message: KafkaMessage }>> {
    const admin = opts.kafka.admin();
    await admin.connect();
    let ends: Map<number, bigint>;
    try {
      // No topic yet (no consumer has started on this cluster): nothing was dead-lettered.
      if (!(await admin.listTopics()).includes(dlqTopic)) return [];
      const offsets = await admin.fetchTopicOffsets(dlqTopic);
      ends = new Map(offsets.filter((o) => BigInt(o.high) > BigInt(o.low)).map((o) => [o.partition, BigInt(o.high)]));
    } finally {
      await admin.disconnect();
    }
    if (ends.size === 0) return [];
    const found: Array<{ partition: number; message: KafkaMessage }> = [];
    const consumer = opts.kafka.consumer({ groupId: `ec-ops-dlq-${randomUUID()}`, allowAutoTopicCreation: false, maxWaitTimeInMs: 200 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [dlqTopic], fromBeginning: true });
      const pending = new Set(ends.keys());
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new AppError('unavailable', 'kafka_unavailable', `the DLQ could not be read within ${timeoutMs} ms`)),
          timeoutMs,
        );
        consumer
          .run({
            autoCommit: false,
            eachBatch: async ({ batch }) => {
              const end = ends.get(batch.partition);
              if (end === undefined) return;
              for (const message of batch.messages) if (BigInt(message.offset) < end) found.push({ partition: batch.partition, message });
              if (BigInt(batch.lastOffset()) >= end - 1n) pending.delete(batch.partition);
              if (pending.size === 0) {
                clearTimeout(timer);
                resolve();
              }
            },
          })
          .catch(reject);
      });
    } finally {
      await consumer.disconnect().catch(() => {});
    }
    return found.sort((a, b) => a.partition - b.partition || Number(BigInt(a.message.offset) - BigInt(b.message.offset)));
  }

  async function resolutions(ids: string[]): Promise<Map<string, { action: DeadLetter['status']; at: string }>> {
    if (ids.length === 0) return new Map();
    const { rows } = await opts.db.query<{ id: string; action: DeadLetter['status']; at: string }>(
      `SELECT id, action, to_json(at)#>>'{}' AS at FROM dead_letter_resolutions WHERE id = ANY($1::text[])`,
      [ids],
    );
    return new Map(rows.map((r) => [r.id, { action: r.action, at: r.at }]));
  }

  const view = (partition: number, m: KafkaMessage, resolved?: { action: DeadLetter['status']; at: string }): DeadLetter => {
    let event: { event_type?: unknown; event_id?: unknown } = {};
    try {
      event = JSON.parse(m.value?.toString('utf8') ?? '') as typeof event;
    } catch {
      // undecodable: that is often why it is here
    }
    const origPartition = text(m.headers, DLQ_HEADER_ORIGINAL_PARTITION);
    return {
      id: `${partition}:${m.offset}`,
      partition,
      offset: m.offset,
      key: m.key?.toString('utf8') ?? null,
      error: text(m.headers, DLQ_HEADER_ERROR),
      consumer_group: text(m.headers, DLQ_HEADER_CONSUMER_GROUP),
      original: {
        topic: text(m.headers, DLQ_HEADER_ORIGINAL_TOPIC),
        partition: origPartition === null ? null : Number(origPartition),
        offset: text(m.headers, DLQ_HEADER_ORIGINAL_OFFSET),
      },
      event_type: typeof event?.event_type === 'string' ? event.event_type : null,
      event_id: typeof event?.event_id === 'string' ? event.event_id : null,
      status: resolved?.action ?? 'open',
      resolved_at: resolved?.at ?? null,
    };
  };

  async function find(id: string): Promise<{ partition: number; message: KafkaMessage }> {
    const m = ID.exec(id);
    if (!m)
      throw new AppError('validation', 'invalid_id', 'a dead letter id is <partition>:<offset>', {
        errors: [{ field: 'id', message: 'must be <partition>:<offset>' }],
      });
    const hit = (await scan()).find((r) => r.partition === Number(m[1]) && r.message.offset === String(BigInt(m[2]!)));
    if (!hit) throw new AppError('not_found', 'dead_letter_not_found', `no dead letter ${id}`);
    return hit;
  }

  async function resolve(id: string, action: 'replayed' | 'discarded') {
    await opts.db.query(
      `INSERT INTO dead_letter_resolutions (id, action) VALUES ($1, $2)
       ON CONFLICT (id) DO UPDATE SET action = EXCLUDED.action, at = now()`,
      [id, action],
    );
    return (await resolutions([id])).get(id);
  }

  return {
    async list(o = {}) {
      const records = await scan();
      const done = await resolutions(records.map((r) => `${r.partition}:${r.message.offset}`));
      const all = records.map((r) => view(r.partition, r.message, done.get(`${r.partition}:${r.message.offset}`)));
      return (o.status ? all.filter((d) => d.status === o.status) : all).slice(0, o.limit ?? 100);
    },
    async replay(id) {
      const { partition, message } = await find(id);
      const headers: IHeaders = {};
      for (const [k, v] of Object.entries(message.headers ?? {})) if (!DLQ_HEADERS.has(k) && v !== undefined) headers[k] = v;
      const producer = producerFor(opts.kafka);
      await producer.connect();
      try {
        // Same key: the record lands on its aggregate's partition, after that aggregate's later events (the
        // consumers' version checks and gap repair make the order harmless).
        await producer.send({ topic: target, acks: -1, messages: [{ key: message.key, value: message.value, headers }] });
      } finally {
        await producer.disconnect().catch(() => {});
      }
      return view(partition, message, await resolve(id, 'replayed'));
    },
    async discard(id) {
      const { partition, message } = await find(id);
      return view(partition, message, await resolve(id, 'discarded'));
    },
  };
}
