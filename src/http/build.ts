import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { serve, type ServerType } from '@hono/node-server';
import pg from 'pg';
import { createCartService } from '../app/carts.ts';
import { createCatalogService } from '../app/catalog.ts';
import type { AppContext } from '../app/context.ts';
import { createExecutor } from '../app/executor.ts';
import { createInventoryService } from '../app/inventory.ts';
import { createOrderService } from '../app/orders.ts';
import { createStreams } from '../app/streams.ts';
import { createPasswordHasher } from '../app/password.ts';
import { createUserService } from '../app/users.ts';
import type { Config } from '../config.ts';
import { connectEventStore, connectReadDb, kafkaFor, pingDb } from '../infra.ts';
import { consumerLagWith } from '../messaging/lag.ts';
import { createPublisher } from '../messaging/publisher.ts';
import { ensureTopics } from '../messaging/topics.ts';
import { createLiveHub } from '../readmodel/live.ts';
import { createReadQueries } from '../readmodel/queries.ts';
import { TOPIC_DLQ } from '../shared/envelope.ts';
import { AppError } from '../shared/errors.ts';
import type { Logger } from '../shared/log.ts';
import type { DeadLetterSummary } from './api-types.ts';
import { createMetrics } from '../shared/metrics.ts';
import { createHttpApp } from './app.ts';
import { createTokens } from './auth.ts';
import { createReadWaits } from './consistency.ts';

export const CONSUMER_GROUPS = ['projector', 'email-notifier', 'fulfillment'];

/** Wires the api process: event store, publisher, read queries, services, HTTP app. The only place that does. */
export async function buildApi(config: Config, log: Logger) {
  const events = await connectEventStore(config);
  const pool = await connectReadDb(config, { max: 20 });
  const waitPool = await connectReadDb(config, { max: 20, applySchema: false });
  const kafka = kafkaFor(config, 'ec-shop-api', log);
  const admin = kafka.admin();
  // The api must start (and accept commands) even when Kafka is down: topics are created when it is reachable.
  await ensureTopics(kafka, { partitions: config.kafka.partitions, log }).catch((err: Error) => log.warn('could not ensure Kafka topics yet', { error: err.message }));
  const publisher = createPublisher(kafka, { topic: config.kafka.topic, log });
  const executor = createExecutor({ store: events.store, publisher, clock: () => new Date(), log });
  const ctx: AppContext = { store: events.store, executor, clock: () => new Date(), newId: randomUUID, snapshotEvery: config.snapshotEvery };
  const streams = createStreams(ctx);
  const users = createUserService(ctx, {
    passwords: createPasswordHasher({ concurrency: config.security.passwordHashConcurrency, queue: config.security.passwordHashQueue }),
  });
  const queries = createReadQueries({ pool, waitPool });
  const metrics = createMetrics();
  // One admin connection shared by the ops views (polled by the SPA): concurrent connect() calls on one kafkajs
  // admin race each other. A broker that does not answer is a 503 for the view, never a 500.
  let adminConnecting: Promise<void> | undefined;
  const adminReady = () =>
    (adminConnecting ??= admin.connect().catch((err: Error) => {
      adminConnecting = undefined;
      kafkaUnavailable(err);
    }));
  // kafkajs' admin keeps one set of "target topics" whose metadata it refreshes: requests about different
  // topics running at once (lag and dead letters, both polled by the ops screen) can refresh each
  // other's metadata away. One admin request at a time, and one retry after a metadata refresh.
  let adminQueue: Promise<unknown> = Promise.resolve();
  const withAdmin = <T,>(work: () => Promise<T>): Promise<T> => {
    const run = adminQueue.then(async () => {
      await adminReady();
      return work().catch(() => work());
    });
    adminQueue = run.catch(() => undefined);
    return run;
  };
  const kafkaUnavailable = (err: Error): never => {
    log.warn('ops: Kafka admin request failed', { error: err.message });
    adminConnecting = undefined; // connect again next time: the broker may have restarted
    throw new AppError('unavailable', 'kafka_unavailable', `Kafka did not answer: ${err.message}`);
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
    tokens: createTokens({ secret: config.auth.jwtSecret, accessTtlSeconds: config.auth.accessTtlSeconds, refreshTtlSeconds: config.auth.refreshTtlSeconds }),
    sessions: events.sessions,
    security: config.security,
    executor,
    queries,
    waits: createReadWaits({ queries, store: events.store, perClient: config.security.waitsPerClient }),
    store: events.store,
    services: {
      users,
      catalog: createCatalogService(ctx, streams),
      inventory: createInventoryService(ctx, streams),
      carts: createCartService(ctx, streams),
      orders: createOrderService(ctx, streams, { reservationTtlSeconds: config.orders.reservationTtlSeconds }),
    },
    ops: {
      checks: async () => {
        const [dynamodb, postgres, kafkaUp] = await Promise.all([
          events.ping(),
          pingDb(pool),
          admin.listTopics().then(() => true, () => false),
        ]);
        return { dynamodb, postgres, kafka: kafkaUp };
      },
      lag: () => withAdmin(() => consumerLagWith(admin, CONSUMER_GROUPS, config.kafka.topic)).catch(kafkaUnavailable),
      dlq: async () => {
        const topic = TOPIC_DLQ;
        const offsets = await withAdmin(() => admin.fetchTopicOffsets(topic)).catch(kafkaUnavailable);
        const partitions = offsets.map((p) => ({ partition: p.partition, messages: Math.max(0, Number(p.high) - Number(p.low)) }));
        return { topic, partitions, total: partitions.reduce((n, p) => n + p.messages, 0) } satisfies DeadLetterSummary;
      },
      metrics,
      links: config.links,
    },
    log,
    bodyLimitBytes: config.http.bodyLimitBytes,
    webDir: fileURLToPath(new URL('../../web/dist', import.meta.url)),
    live: { hub: live },
  });
  const seeded = await users.seedAdmin(config.auth.adminEmail, config.auth.adminPassword, (plan) =>
    executor.run(plan, { metadata: { correlation_id: 'seed-admin' } }),
  );
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
      await executor.drain();
      await publisher.disconnect().catch(() => {});
      await admin.disconnect().catch(() => {});
      await Promise.allSettled([pool.end(), waitPool.end()]);
      events.close();
    },
  };
}
