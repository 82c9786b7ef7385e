import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { serve, type ServerType } from '@hono/node-server';
import pg from 'pg';
import { createApplication } from '../composition/application.ts';
import { createPasswordHasher } from '../contexts/users/password.ts';
import type { Config } from '../platform/shared/config.ts';
import { checks, connectEventStore, connectReadDb, kafkaFor } from './infra.ts';
import { createLagMonitor, recordLag } from '../platform/messaging/lag.ts';
import { createDeadLetterAdmin } from '../platform/messaging/dlq-admin.ts';
import { createManagedAdmin } from '../platform/messaging/managed.ts';
import { isTransientError } from '../platform/messaging/retry.ts';
import { createParkingProjector } from '../composition/projections/parking.ts';
import { createPublisher } from '../platform/messaging/publisher.ts';
import { ensureTopics } from '../platform/messaging/topics.ts';
import { createLiveHub } from '../platform/readmodel/live.ts';
import { createReadQueries } from '../composition/queries.ts';
import { AppError } from '../platform/shared/errors.ts';
import type { Logger } from '../platform/shared/log.ts';
import type { DeadLetterSummary } from '../composition/http/api-types.ts';
import { createHealth } from '../platform/shared/health.ts';
import { createMetrics } from '../platform/shared/metrics.ts';
import { createHttpApp } from '../composition/http/app.ts';
import { createTokens } from '../platform/http/auth.ts';
import { createReadWaits } from '../composition/http/consistency.ts';
import { withTimeout } from '../platform/shared/timeout.ts';

export const CONSUMER_GROUPS = ['projector', 'email-notifier', 'fulfillment'];

/** Wires the api process: event store, publisher, read queries, services, HTTP app. The only place that does. */
export async function buildApi(config: Config, log: Logger) {
  const events = await connectEventStore(config);
  const pool = await connectReadDb(config, { max: 20 });
  const waitPool = await connectReadDb(config, { max: 20, applySchema: false });
  const kafka = kafkaFor(config, 'ec-shop-api', log);
  const admin = createManagedAdmin(kafka, log);
  // The api must start (and accept commands) even when Kafka is down: topics are created when it is reachable.
  await ensureTopics(kafka, { topics: [config.kafka.topic, config.kafka.dlqTopic], partitions: config.kafka.partitions, log }).catch(
    (err: Error) => log.warn('could not ensure Kafka topics yet', { error: err.message }),
  );
  const publisher = createPublisher(kafka, { topic: config.kafka.topic, log });
  const application = createApplication({
    store: events.store,
    publisher,
    clock: () => new Date(),
    newId: randomUUID,
    log,
    snapshotEvery: config.snapshotEvery,
    reservationTtlSeconds: config.orders.reservationTtlSeconds,
    passwords: createPasswordHasher({ concurrency: config.security.passwordHashConcurrency, queue: config.security.passwordHashQueue }),
  });
  const { executor, users } = application;
  const queries = createReadQueries({ pool, waitPool });
  const metrics = createMetrics({ processMetrics: true });
  const lag = createLagMonitor({
    admin,
    groups: CONSUMER_GROUPS,
    topic: config.kafka.topic,
    log,
    onReport: (report) => recordLag(metrics, report),
  });
  // On every scrape, bounded: a frozen broker leaves the last values in place rather than stalling /metrics.
  metrics.onScrape(async () => void (await lag.current()));
  const health = createHealth([
    checks.dynamodb(events),
    checks.postgres(pool),
    // Not required: commands are accepted while Kafka is down, their events wait in the outbox.
    checks.kafka(admin, config.kafka.topic, false),
    checks.kafkaProducer(publisher, false),
  ]);
  health.start();
  // Dead letters are counted on an admin client of their own: kafkajs' admin refreshes the metadata of the
  // topics it was last asked about, and requests about two topics at once (the ops screen polls lag and dead
  // letters together) refresh each other's away. A broker that does not answer is a 503 for the view, never a 500.
  const dlqAdmin = createManagedAdmin(kafka, log);
  const deadLetters = async (): Promise<DeadLetterSummary> => {
    const topic = config.kafka.dlqTopic;
    try {
      const offsets = await withTimeout(
        dlqAdmin.use((a) => a.fetchTopicOffsets(topic)),
        1500,
        () => new Error('no answer within 1500 ms'),
      );
      const partitions = offsets.map((p) => ({ partition: p.partition, messages: Math.max(0, Number(p.high) - Number(p.low)) }));
      return { topic, partitions, total: partitions.reduce((n, p) => n + p.messages, 0) };
    } catch (err) {
      dlqAdmin.replace(`dead-letter count failed: ${(err as Error).message}`);
      log.warn('ops: counting dead letters failed', { error: (err as Error).message });
      throw new AppError('unavailable', 'kafka_unavailable', `Kafka did not answer: ${(err as Error).message}`);
    }
  };
  const live = createLiveHub({
    connect: async () => {
      const client = new pg.Client({ connectionString: config.databaseUrl, connectionTimeoutMillis: 5000 });
      await client.connect();
      return client;
    },
    db: pool,
    log,
  });
  const app = createHttpApp({
    tokens: createTokens({
      secret: config.auth.jwtSecret,
      accessTtlSeconds: config.auth.accessTtlSeconds,
      refreshTtlSeconds: config.auth.refreshTtlSeconds,
    }),
    sessions: events.sessions,
    security: config.security,
    app: application,
    queries,
    waits: createReadWaits({ queries, store: events.store, perClient: config.security.waitsPerClient }),
    store: events.store,
    ops: {
      readiness: () => health.readiness(),
      lag: () => lag.current(),
      dlq: deadLetters,
      deadLetters: createDeadLetterAdmin({ kafka, db: pool, dlqTopic: config.kafka.dlqTopic, targetTopic: config.kafka.topic }),
      // Retry applies a parked stream's held-back events here, in the api, through the projector's own engine.
      parked: createParkingProjector({ pool, eventStore: events.store, isTransient: isTransientError, log: (line) => log.info(line) }),
      metrics,
      links: config.links,
    },
    log,
    bodyLimitBytes: config.http.bodyLimitBytes,
    webDir: fileURLToPath(new URL('../../web/dist', import.meta.url)),
    live: { hub: live },
  });
  const seeded = await users.seedAdmin(config.auth.adminEmail, config.auth.adminPassword, executor);
  if (seeded) log.info('admin account created', { email: config.auth.adminEmail });

  let server: ServerType | undefined;
  return {
    app,
    start: () =>
      new Promise<{ port: number }>((resolve) => {
        server = serve({ fetch: app.fetch, port: config.http.port, hostname: config.http.host }, (info) => resolve({ port: info.port }));
      }),
    async stop() {
      // Live streams never end by themselves: close them first or server.close() would wait for them.
      await live.close();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      health.stop();
      await executor.drain();
      await publisher.disconnect().catch(() => {});
      await admin.disconnect().catch(() => {});
      await dlqAdmin.disconnect().catch(() => {});
      await Promise.allSettled([pool.end(), waitPool.end()]);
      events.close();
    },
  };
}
