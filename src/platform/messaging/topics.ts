/**
 * Creates the event topic and its DLQ if missing. Safe to run from every process at every start (and from
 * several at once): an existing topic is left as it is.
 */
import type { Kafka } from 'kafkajs';
import type { Logger } from './log.ts';

export interface EnsureTopicsOptions {
  /** 6 as in compose: the upper bound on consumers per group that can work in parallel. */
  partitions?: number;
  replicationFactor?: number;
  /** The event topic and its DLQ (config.kafka.topic, config.kafka.dlqTopic), or a test's own. */
  topics: string[];
  log?: Logger;
}

export interface EnsureTopicsResult {
  created: string[];
  existing: string[];
}

export async function ensureTopics(kafka: Kafka, opts: EnsureTopicsOptions): Promise<EnsureTopicsResult> {
  const partitions = opts.partitions ?? 6;
  const replicationFactor = opts.replicationFactor ?? 1;
  const wanted = opts.topics;
  const admin = kafka.admin();
  await admin.connect();
  try {
    const present = new Set(await admin.listTopics());
    const missing = wanted.filter((t) => !present.has(t));
    const existing = wanted.filter((t) => present.has(t));
    if (missing.length > 0) {
      // Another process may win the race between listTopics and here; kafkajs then answers false for
      // TOPIC_ALREADY_EXISTS instead of throwing, which is exactly "ensure".
      await admin.createTopics({
        topics: missing.map((topic) => ({ topic, numPartitions: partitions, replicationFactor })),
        waitForLeaders: true,
      });
    }
    if (existing.length > 0 && opts.log) {
      const { topics } = await admin.fetchTopicMetadata({ topics: existing });
      for (const t of topics) {
        // Never "fix" this by adding partitions: the key → partition mapping would change and events of one
        // aggregate produced before and after would sit in different partitions, unordered.
        if (t.partitions.length !== partitions) {
          opts.log.warn('topic exists with a different partition count', {
            topic: t.name,
            partitions: t.partitions.length,
            expected: partitions,
          });
        }
      }
    }
    return { created: missing, existing };
  } finally {
    await admin.disconnect();
  }
}
