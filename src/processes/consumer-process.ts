import { hostname } from 'node:os';
import type { Config } from '../config.ts';
import { kafkaFor } from '../infra.ts';
import { runConsumer } from '../messaging/consumer.ts';
import type { BatchHandler } from '../messaging/batch.ts';
import { ensureTopics } from '../messaging/topics.ts';
import type { Logger } from '../shared/log.ts';
import { createMetrics, type Metrics } from '../shared/metrics.ts';
import { startOpsServer } from '../shared/ops-server.ts';

export interface ConsumerProcessOptions {
  name: string;
  groupId: string;
  config: Config;
  log: Logger;
  handleBatch: BatchHandler;
  ready: () => Promise<boolean>;
  /** Closes what the handler uses (pools, transports) after the consumer has stopped. */
  close: () => Promise<void>;
  metrics?: Metrics;
}

/**
 * The shape shared by the projector, the notifier and the worker: a consumer-group member around a batch
 * handler, plus /healthz, /readyz and /metrics. Stop finishes and commits the batch in flight, then closes.
 */
export async function startConsumerProcess(opts: ConsumerProcessOptions) {
  const { config, log } = opts;
  const metrics = opts.metrics ?? createMetrics();
  const instance = process.env.INSTANCE_ID ?? hostname();
  const kafka = kafkaFor(config, `ec-shop-${opts.name}-${instance}`, log);
  await ensureTopics(kafka, { partitions: config.kafka.partitions, log });
  const processed = metrics.counter('consumer_events_total', 'Events handled by this consumer group member');
  const consumer = runConsumer({
    kafka,
    groupId: opts.groupId,
    topic: config.kafka.topic,
    log,
    handleBatch: async (events, ctx) => {
      await opts.handleBatch(events, ctx);
      processed.inc({ group: opts.groupId }, events.length);
    },
    onFatal: (err) => {
      log.error('consumer crashed beyond recovery; exiting so the supervisor restarts us', { error: err.message });
      process.exit(1);
    },
  });
  const statsGauge = metrics.gauge('consumer_stats', 'Consumer counters (processed, failed, retries, dlq, poison)');
  const ops = await startOpsServer({
    port: Number(process.env.OPS_PORT ?? 0),
    host: config.http.host,
    metrics: {
      ...metrics,
      render: () => {
        for (const [k, v] of Object.entries(consumer.stats())) statsGauge.set(v, { group: opts.groupId, stat: k });
        return metrics.render();
      },
    },
    ready: opts.ready,
    name: opts.name,
  });
  await consumer.ready;
  log.info(`${opts.name} consuming`, { group: opts.groupId, instance, ops_port: ops.port });
  return {
    async stop() {
      await consumer.stop();
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
