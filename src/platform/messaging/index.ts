export { createKafka, kafkaLogCreator } from './kafka.ts';
export type { KafkaLogLevel, KafkaOptions } from './kafka.ts';
export { silentLogger } from './log.ts';
export type { LogFields, Logger, LogLevel } from './log.ts';
export {
  decodeEnvelope,
  encodeEnvelope,
  HEADER_AGGREGATE_TYPE,
  HEADER_EVENT_ID,
  HEADER_EVENT_TYPE,
  HEADER_VERSION,
  PoisonMessageError,
} from './codec.ts';
export type { EncodedMessage, PoisonReason } from './codec.ts';
export {
  DLQ_HEADER_CONSUMER_GROUP,
  DLQ_HEADER_ERROR,
  DLQ_HEADER_ERROR_STACK,
  DLQ_HEADER_ORIGINAL_OFFSET,
  DLQ_HEADER_ORIGINAL_PARTITION,
  DLQ_HEADER_ORIGINAL_TOPIC,
  toDeadLetter,
} from './dlq.ts';
export type { DeadLetterContext } from './dlq.ts';
export { ensureTopics } from './topics.ts';
export type { EnsureTopicsOptions, EnsureTopicsResult } from './topics.ts';
export { createPublisher, producerFor, PublishTimeoutError, PublishUnavailableError } from './publisher.ts';
export type { Publisher, PublisherHealth, PublisherOptions } from './publisher.ts';
export { createManagedAdmin, createManagedClient, isRecordRejection, recordRejectionOf } from './managed.ts';
export type { ManagedAdmin, ManagedClient, ManagedClientOptions, ManagedProducer } from './managed.ts';
export { runConsumer } from './consumer.ts';
export type { ConsumerHealth, ConsumerOptions, RunningConsumer } from './consumer.ts';
export type { BatchContext, BatchHandler, ConsumerStats } from './batch.ts';
export { backoffDelay, isTransientError } from './retry.ts';
export type { Backoff, BackoffOptions } from './retry.ts';
export { consumerLag, consumerLagWith, createLagMonitor, recordLag } from './lag.ts';
export type { GroupLag, LagMonitor, LagMonitorOptions, LagReport, LagView, PartitionLag } from './lag.ts';
