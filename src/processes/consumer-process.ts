import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../platform/shared/config.ts';
import { kafkaFor } from './infra.ts';
import type { BatchHandler } from '../platform/messaging/batch.ts';
import { runConsumer, type RunningConsumer } from '../platform/messaging/consumer.ts';
import { backoffDelay } from '../platform/messaging/retry.ts';
import { ensureTopics } from '../platform/messaging/topics.ts';
import { createHealth, type HealthCheck } from '../platform/shared/health.ts';
import type { Logger } from '../platform/shared/log.ts';
import { createMetrics, type Metrics } from '../platform/shared/metrics.ts';
import { opsListenFromEnv, startOpsServer } from '../platform/shared/ops-server.ts';

export interface ConsumerProcessOptions {
  name: string;
  groupId: string;
  config: Config;
  log: Logger;
  handleBatch: BatchHandler;
  /** What else this process needs to do its work (postgres, dynamodb, smtp…); the consumer itself is added. */
  checks: HealthCheck[];
  /** Closes what the handler uses (pools, transports) after the consumer has stopped. */
  close: () => Promise<void>;
  metrics?: Metrics;
}

/**
 * The shape shared by the projector, the notifier and the worker: a consumer-group member around a batch
 * handler, plus /healthz, /readyz and /metrics on loopback. The ops server comes up first, so a process waiting
 * for its broker already says why it is not ready. Stop finishes and commits the batch in flight, then closes.
 */
export async function startConsumerProcess(opts: ConsumerProcessOptions) {
  const { config, log, groupId } = opts;
  const metrics = opts.metrics ?? createMetrics({ processMetrics: true });
  const instance = process.env.INSTANCE_ID ?? hostname();
  const kafka = kafkaFor(config, `ec-shop-${opts.name}-${instance}`, log);
  // Set once the topics exist; the health check and the scrape read it before that, too.
  const member: { consumer?: RunningConsumer } = {};
  const stopping = new AbortController();

  const health = createHealth([
    ...opts.checks,
    {
      name: 'consumer',
      state: () => {
        if (!member.consumer) return { ok: false, detail: { group: groupId, state: 'waiting for the broker to create topics' } };
        const { ok, ...detail } = member.consumer.health();
        return { ok, detail: { group: groupId, ...detail } };
      },
    },
  ]);
  health.start();

  const processed = metrics.counter('consumer_events_total', 'Events handled by this consumer group member', ['group']);
  const batchSeconds = metrics.histogram('consumer_batch_duration_seconds', 'Time to handle one batch, retries included', {
    labelNames: ['group'],
  });
  const statsGauge = metrics.gauge('consumer_stats', 'Consumer counters (batches, processed, failed, retries, dlq, poison)', [
    'group',
    'stat',
  ]);
  const lagGauge = metrics.gauge('kafka_consumer_lag', "Records behind the partition's end, as of this member's last batch there", [
    'group',
    'partition',
  ]);
  const restartsGauge = metrics.gauge(
    'kafka_consumer_restarts',
    'kafkajs consumers this member recreated (crashed beyond restarts, or stalled)',
    ['group'],
  );
  metrics.onScrape(() => {
    const { consumer } = member;
    if (!consumer) return;
    for (const [k, v] of Object.entries(consumer.stats())) statsGauge.set(v, { group: groupId, stat: k });
    lagGauge.reset();
    for (const [partition, lag] of consumer.lag()) lagGauge.set(lag, { group: groupId, partition: String(partition) });
    restartsGauge.set(consumer.health().restarts, { group: groupId });
  });

  const listen = opsListenFromEnv();
  const ops = await startOpsServer({ ...listen, metrics, readiness: () => health.readiness(), name: opts.name });
  log.info(`${opts.name} ops server listening`, { group: groupId, ops_host: listen.host, ops_port: ops.port });

  // A broker that is down at start is waited out here rather than ending the process.
  for (let attempt = 1; ; attempt++) {
    try {
      await ensureTopics(kafka, { topics: [config.kafka.topic, config.kafka.dlqTopic], partitions: config.kafka.partitions, log });
      break;
    } catch (err) {
      const delay = backoffDelay({ initialMs: 1_000, maxMs: 15_000 }, attempt);
      log.warn('could not ensure Kafka topics yet; retrying', { error: err, attempt, retry_in_ms: delay });
      await sleep(delay, undefined, { signal: stopping.signal }).catch(() => {});
      if (stopping.signal.aborted) break;
    }
  }

  const consumer = runConsumer({
    kafka,
    groupId,
    topic: config.kafka.topic,
    dlqTopic: config.kafka.dlqTopic,
    log,
    handleBatch: async (events, ctx) => {
      const started = process.hrtime.bigint();
      try {
        await opts.handleBatch(events, ctx);
        processed.inc({ group: groupId }, events.length);
      } finally {
        batchSeconds.observe({ group: groupId }, Number(process.hrtime.bigint() - started) / 1e9);
      }
    },
  });
  member.consumer = consumer;
  await consumer.ready;
  log.info(`${opts.name} consuming`, { group: groupId, instance, ops_port: ops.port });
  return {
    async stop() {
      stopping.abort();
      await consumer.stop();
      health.stop();
      await ops.close();
      await opts.close();
    },
  };
}

/** SIGINT/SIGTERM → graceful stop → exit. Shared by every consumer entry point. */
export function stopOnSignals(log: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      log.info(`${signal}: finishing the batch in flight and stopping`);
      stop().then(
        () => process.exit(0),
        (err: Error) => {
          log.error('unclean stop', { error: err.message });
          process.exit(1);
        },
      );
    });
  }
}
