import { randomUUID } from 'node:crypto';
import type { AppContext } from '../app/context.ts';
import { createExecutor } from '../app/executor.ts';
import { createOrderService } from '../app/orders.ts';
import { createStreams } from '../app/streams.ts';
import type { Config } from '../config.ts';
import { checks, connectEventStore, connectReadDb, kafkaFor } from '../infra.ts';
import { createManagedAdmin } from '../messaging/managed.ts';
import { createPublisher } from '../messaging/publisher.ts';
import type { Logger } from '../shared/log.ts';
import { createMetrics } from '../shared/metrics.ts';
import { applyWorkerSchema } from '../worker/schema.ts';
import { createExpiryScheduler } from '../worker/expiry.ts';
import { createOutboxSweeper } from '../worker/sweeper.ts';
import { startConsumerProcess } from './consumer-process.ts';

/**
 * Consumer group `fulfillment` plus two timers: the outbox sweeper (republishes events whose publish the api
 * never confirmed) and reservation expiry (cancels unpaid orders past expires_at and releases their stock).
 */
export async function startWorker(config: Config, log: Logger) {
  const events = await connectEventStore(config);
  const pool = await connectReadDb(config, { max: 8 });
  await applyWorkerSchema(pool);
  const kafka = kafkaFor(config, `ec-shop-worker-${process.pid}`, log);
  const publisher = createPublisher(kafka, { topic: config.kafka.topic, log });
  const clock = () => new Date();
  const executor = createExecutor({ store: events.store, publisher, clock, log });
  const ctx: AppContext = { store: events.store, executor, clock, newId: randomUUID, snapshotEvery: config.snapshotEvery };
  const orders = createOrderService(ctx, createStreams(ctx), { reservationTtlSeconds: config.orders.reservationTtlSeconds });
  const metrics = createMetrics({ processMetrics: true });
  const admin = createManagedAdmin(kafka, log);
  const sweeper = createOutboxSweeper({ store: events.store, publisher, clock, log, metrics });
  const expiry = createExpiryScheduler({
    pool,
    clock,
    log,
    metrics,
    // Decided from the event store by the order service; a not-yet-due order rejects and is retried later.
    expireOrder: async (orderId) => {
      const outcome = await executor.run(orders.expire(orderId), { metadata: { correlation_id: `expiry-${orderId}` } });
      return { expired: (outcome.body as { expired: boolean }).expired };
    },
  });
  const consumer = await startConsumerProcess({
    name: 'worker',
    groupId: 'fulfillment',
    config,
    log,
    metrics,
    handleBatch: (batch) => expiry.handleBatch(batch),
    // The sweeper and its producer are the worker's job as much as its consumer: a worker that cannot publish
    // leaves events in the outbox, and must say so.
    checks: [
      checks.postgres(pool),
      checks.dynamodb(events),
      checks.kafka(admin, config.kafka.topic),
      checks.kafkaProducer(publisher),
      { name: 'outbox_sweeper', state: () => ({ ok: sweeper.health().ok, detail: { ...sweeper.health() } }) },
    ],
    close: async () => {
      await Promise.all([sweeper.stop(), expiry.stop()]);
      await executor.drain();
      await publisher.disconnect().catch(() => {});
      await admin.disconnect().catch(() => {});
      await pool.end();
      events.close();
    },
  });
  sweeper.start();
  expiry.start();
  return consumer;
}
