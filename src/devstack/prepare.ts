import { loadConfig } from '../platform/shared/config.ts';
import { connectEventStore, connectReadDb, kafkaFor } from '../processes/infra.ts';
import { ensureTopics } from '../platform/messaging/topics.ts';
import { createLogger } from '../platform/shared/log.ts';

/**
 * Creates the DynamoDB tables, the Kafka topics (6 partitions) and the read-side schema before the processes
 * start, so they do not race on it. Every step is idempotent; each process repeats it at its own start anyway.
 */
export async function prepareInfrastructure(env: Record<string, string>, log: (line: string) => void): Promise<void> {
  const config = loadConfig({ ...process.env, ...env });
  const quiet = createLogger('prepare', { level: 'warn' });
  const events = await connectEventStore(config);
  events.close();
  const pool = await connectReadDb(config, { max: 1 });
  await pool.end();
  const kafka = kafkaFor(config, 'ec-shop-prepare', quiet);
  const topics = await ensureTopics(kafka, {
    topics: [config.kafka.topic, config.kafka.dlqTopic],
    partitions: config.kafka.partitions,
    log: quiet,
  });
  log(`prepared: DynamoDB tables, PostgreSQL schema, Kafka topics (created: ${topics.created.join(', ') || 'none'})`);
}
