/**
 * The composition root for tests of the HTTP layer without processes (hono's `app.request(...)`): the real
 * application and routes on the in-memory event store, a publisher that keeps what it was given (Kafka's fake)
 * and read queries answered from the event store (PostgreSQL's fake: the cart and nothing else, enough for
 * the write side's routes; the projections have tests of their own).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { createApplication } from '../composition/application.ts';
import type { Publisher } from '../kernel/executor.ts';
import { createPasswordHasher } from '../contexts/users/password.ts';
import { loadConfig } from '../platform/shared/config.ts';
import { createMemoryEventStore } from '../platform/eventstore/memory.ts';
import { createMemorySessionStore } from '../platform/eventstore/sessions.ts';
import type { EventStore } from '../platform/eventstore/types.ts';
import type { ReadQueries } from '../composition/queries.ts';
import type { EventEnvelope } from '../platform/shared/envelope.ts';
import { createLogger } from '../platform/shared/log.ts';
import { createMetrics } from '../platform/shared/metrics.ts';
import { createHttpApp } from '../composition/http/app.ts';
import { createTokens } from '../platform/http/auth.ts';
import { createReadWaits } from '../composition/http/consistency.ts';
import { withEventContracts } from './infra.ts';

export interface MemoryShopOptions {
  store?: EventStore;
  publisher?: Publisher;
  clock?: () => Date;
  reservationTtlSeconds?: number;
}

export function createMemoryShop(opts: MemoryShopOptions = {}) {
  const store = withEventContracts(opts.store ?? createMemoryEventStore());
  const published: EventEnvelope[] = [];
  const publisher = opts.publisher ?? { publish: async (events: EventEnvelope[]) => void published.push(...events) };
  const log = createLogger('memory-shop', { level: 'error' });
  const config = loadConfig(
    {
      DATABASE_URL: 'postgres://memory-shop.invalid/none',
      KAFKA_BROKERS: '127.0.0.1:1',
      JWT_SECRET: randomBytes(32).toString('hex'),
      ADMIN_PASSWORD: randomBytes(16).toString('hex'),
    },
    { secrets: false },
  );
  const application = createApplication({
    store,
    publisher,
    clock: opts.clock ?? (() => new Date()),
    newId: randomUUID,
    log,
    snapshotEvery: config.snapshotEvery,
    reservationTtlSeconds: opts.reservationTtlSeconds ?? config.orders.reservationTtlSeconds,
    // The cheapest parameters scrypt takes: tests log in many times.
    passwords: createPasswordHasher({ params: { N: 1024, r: 8, p: 1 } }),
  });
  const readCart = async (userId: string) => {
    const cart = await application.executor.streams().cart(userId);
    return { user_id: userId, items: cart.state.lines, version: cart.version };
  };
  const queries = new Proxy({ getCart: readCart } as Partial<ReadQueries>, {
    get: (target, name: string) =>
      target[name as keyof ReadQueries] ??
      (async () => {
        throw new Error(`the memory shop has no read model: ${name}`);
      }),
  }) as ReadQueries;
  const tokens = createTokens({
    secret: config.auth.jwtSecret,
    accessTtlSeconds: config.auth.accessTtlSeconds,
    refreshTtlSeconds: config.auth.refreshTtlSeconds,
  });
  const app = createHttpApp({
    tokens,
    sessions: createMemorySessionStore(),
    security: { ...config.security, waitsPerClient: 0 },
    app: application,
    queries,
    waits: createReadWaits({ queries, store, perClient: 0 }),
    store,
    ops: { readiness: () => ({ ready: true, checks: {} }) as never, lag: async () => ({}), metrics: createMetrics(), links: {} },
    log,
    bodyLimitBytes: config.http.bodyLimitBytes,
    // No SPA here: an existing empty-enough directory keeps serveStatic quiet.
    webDir: tmpdir(),
  });
  return { app, application, store, published, tokens };
}
