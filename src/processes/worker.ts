import { randomUUID } from 'node:crypto';
import { createApplication } from '../composition/application.ts';
import type { Config } from '../platform/shared/config.ts';
import { checks, connectEventStore, connectReadDb, kafkaFor } from './infra.ts';
import { createManagedAdmin } from '../platform/messaging/managed.ts';
import { createPublisher } from '../platform/messaging/publisher.ts';
import type { Logger } from '../platform/shared/log.ts';
import { createMetrics } from '../platform/shared/metrics.ts';
import { createSimulatedCarrier } from '../contexts/shipping/carrier-adapter.ts';
import { createExpiryScheduler } from '../contexts/orders/expiry.ts';
import { createFulfilmentManager } from '../contexts/shipping/fulfilment-worker.ts';
import { fulfilmentSagaId } from '../kernel/saga-steps.ts';
import { createOutboxSweeper } from '../composition/worker/sweeper.ts';
import { startConsumerProcess } from './consumer-process.ts';

/**
 * Consumer group `fulfillment` plus three timers: the outbox sweeper (republishes events whose publish the api
 * never confirmed), reservation expiry (cancels unpaid orders past expires_at and releases their stock) and
 * the fulfilment saga (ships paid orders through the carrier, compensates when it fails).
 */
export async function startWorker(config: Config, log: Logger) {
  const events = await connectEventStore(config);
  // The timer tables come with the migrations (001) like every other table.
  const pool = await connectReadDb(config, { max: 16 });
  const kafka = kafkaFor(config, `ec-shop-worker-${process.pid}`, log);
  const publisher = createPublisher(kafka, { topic: config.kafka.topic, log });
  const clock = () => new Date();
  const { executor, orders, fulfilment } = createApplication({
    store: events.store,
    publisher,
    clock,
    newId: randomUUID,
    log,
    snapshotEvery: config.snapshotEvery,
    reservationTtlSeconds: config.orders.reservationTtlSeconds,
  });
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
      const { expired } = await executor.execute(
        orders.expire,
        { order_id: orderId },
        { metadata: { correlation_id: `expiry-${orderId}` } },
      );
      return { expired };
    },
  });
  // The saga's commands share one correlation id per order, so its events can be found together in the log.
  const saga = (orderId: string) => ({ metadata: { correlation_id: fulfilmentSagaId(orderId) } });
  const shipping = createFulfilmentManager({
    pool,
    clock,
    log,
    metrics,
    carrier: createSimulatedCarrier({
      pool,
      clock,
      delayMs: config.orders.shipmentDelayMs,
      failureRate: config.orders.shipmentFailureRate,
    }),
    commands: {
      open: (orderId) => executor.execute(fulfilment.open, { order_id: orderId }, saga(orderId)),
      handOver: (orderId, booking) => executor.execute(fulfilment.handOver, { order_id: orderId, booking }, saga(orderId)),
      answer: (orderId, verdict) => executor.execute(fulfilment.answer, { order_id: orderId, verdict }, saga(orderId)),
    },
  });
  log.info('fulfilment: simulated carrier', { delay_ms: config.orders.shipmentDelayMs, failure_rate: config.orders.shipmentFailureRate });
  // The timers run from PostgreSQL alone: they start before the consumer has joined its group, so a worker
  // restarted after a crash resumes waiting sagas at once, not after the group's rebalance (a session timeout).
  sweeper.start();
  expiry.start();
  shipping.start();
  const consumer = await startConsumerProcess({
    name: 'worker',
    groupId: 'fulfillment',
    config,
    log,
    metrics,
    handleBatch: async (batch) => {
      await expiry.handleBatch(batch);
      await shipping.handleBatch(batch);
    },
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
      await Promise.all([sweeper.stop(), expiry.stop(), shipping.stop()]);
      await executor.drain();
      await publisher.disconnect().catch(() => {});
      await admin.disconnect().catch(() => {});
      await pool.end();
      events.close();
    },
  });
  return consumer;
}
