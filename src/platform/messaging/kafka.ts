/**
 * One place that decides how every process talks to Kafka: timeouts, retries and where kafkajs logs go.
 * Callers get a plain kafkajs `Kafka`; producers, consumers and admins are made from it by the modules beside.
 */
import { Kafka, logLevel } from 'kafkajs';
import type { LogEntry, logCreator, RetryOptions } from 'kafkajs';
import { createLogger } from '../shared/log.ts';
import type { LogFields, Logger } from './log.ts';

export type KafkaLogLevel = 'nothing' | 'error' | 'warn' | 'info' | 'debug';

export interface KafkaOptions {
  /** `host:port` entries, e.g. `KAFKA_BROKERS.split(',')`. */
  brokers: string[];
  clientId: string;
  /** kafkajs is chatty at `info` (every join, every leave): `warn` unless told otherwise. */
  logLevel?: KafkaLogLevel;
  logger?: Logger;
  /** TCP connect timeout. A refused port fails at once anyway; this bounds a black-holed host. */
  connectionTimeoutMs?: number;
  /** Per request. Fetch adds its own long-poll wait on top; JoinGroup its rebalance timeout. */
  requestTimeoutMs?: number;
  /** Overrides the connection-level retry below (connects, metadata, admin, consumer operations). */
  retry?: RetryOptions;
}

const LEVELS: Record<KafkaLogLevel, logLevel> = {
  nothing: logLevel.NOTHING,
  error: logLevel.ERROR,
  warn: logLevel.WARN,
  info: logLevel.INFO,
  debug: logLevel.DEBUG,
};

export function createKafka(opts: KafkaOptions): Kafka {
  if (opts.brokers.length === 0 || opts.brokers.some((b) => !/^\S+:\d+$/.test(b))) {
    throw new Error(`Kafka brokers must be host:port entries, got ${JSON.stringify(opts.brokers)}`);
  }
  const logger = opts.logger ?? createLogger('kafkajs');
  return new Kafka({
    brokers: opts.brokers,
    clientId: opts.clientId,
    connectionTimeout: opts.connectionTimeoutMs ?? 3_000,
    requestTimeout: opts.requestTimeoutMs ?? 10_000,
    // About 13 s of retrying (250 ms doubling, capped at 5 s) before kafkajs reports an operation as failed:
    // long enough to ride out a broker restart, short enough that a consumer restarts or a caller sees the
    // outage while it is still news. Producers override this (publisher.ts): their caller is waiting.
    retry: opts.retry ?? { initialRetryTime: 250, maxRetryTime: 5_000, retries: 6 },
    logLevel: LEVELS[opts.logLevel ?? 'warn'],
    logCreator: kafkaLogCreator(logger),
  });
}

const REBALANCING = /rebalanc/i;

/** kafkajs calls the creator once per level and then the returned function per entry. */
export function kafkaLogCreator(logger: Logger): logCreator {
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, timestamp: _timestamp, logger: _kafkaLogger, ...extra } = log;
      const fields: LogFields = { namespace, ...extra };
      // A rebalance is routine group life (a member joined or left): kafkajs reports every heartbeat that
      // learns of it as an ERROR, which would bury real errors in make dev's output.
      if (typeof extra.error === 'string' && REBALANCING.test(extra.error)) logger.debug(message, fields);
      else if (level === logLevel.ERROR) logger.error(message, fields);
      else if (level === logLevel.WARN) logger.warn(message, fields);
      else if (level === logLevel.INFO) logger.info(message, fields);
      else logger.debug(message, fields);
    };
}
