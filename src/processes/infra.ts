import pg from 'pg';
import type { Kafka } from 'kafkajs';
import type { Config } from '../platform/shared/config.ts';
import {
  createDynamoClient,
  createDynamoEventStore,
  createDynamoSessionStore,
  ensureTables,
  type SessionStore,
} from '../platform/eventstore/index.ts';
import type { EventStore } from '../platform/eventstore/types.ts';
import { withUpcasting } from '../platform/eventstore/upcasting.ts';
import { eventContracts, upcastEvent } from '../kernel/contracts.ts';
import { createKafka } from '../platform/messaging/kafka.ts';
import type { ManagedAdmin } from '../platform/messaging/managed.ts';
import type { Publisher } from '../platform/messaging/publisher.ts';
import { migrate, SEARCH_PATH } from '../platform/readmodel/schema.ts';
import type { ProbeCheck } from '../platform/shared/health.ts';
import type { Logger } from '../platform/shared/log.ts';

/**
 * Builders for the infrastructure clients every process shares. Each takes the parsed config; nothing here is
 * a module-level singleton. Creating tables and the schema is idempotent, so any process may start first.
 */
/** The event contracts' hooks (src/kernel/contracts.ts) on a store: old schema versions come out upcast, new
 * events are stamped current. Every composition root — the processes' and the tests' in-memory shop — wraps its
 * store with it, so a test sees the events exactly as a process does. */
export function withEventContracts<S extends EventStore>(store: S): S {
  return withUpcasting(store, upcastEvent, eventContracts.currentVersion);
}

export async function connectEventStore(
  config: Config,
): Promise<{ store: EventStore; sessions: SessionStore; ping: () => Promise<boolean>; probe: () => Promise<void>; close: () => void }> {
  const client = createDynamoClient({
    ...(config.dynamodb.endpoint ? { endpoint: config.dynamodb.endpoint } : {}),
    region: config.dynamodb.region,
  });
  await ensureTables(client, config.dynamodb.tables);
  const store = withEventContracts(createDynamoEventStore({ client, tables: config.dynamodb.tables }));
  return {
    store,
    sessions: createDynamoSessionStore({ client, table: config.dynamodb.tables.auth }),
    ping: async () => {
      try {
        await store.readStream('healthcheck');
        return true;
      } catch {
        return false;
      }
    },
    probe: async () => {
      await store.readStream('healthcheck');
    },
    close: () => client.destroy(),
  };
}

/**
 * A pool on the read database. Unless `applySchema: false`, the pending migrations run first (once: under
 * node-pg-migrate's advisory lock, recorded in schema_migrations). Sessions resolve unqualified table names
 * through read_model (the projection family, which a rebuild swaps) and then public (side-effect tables).
 */
export async function connectReadDb(
  config: Config,
  opts: { max?: number; applySchema?: boolean; log?: (line: string) => void } = {},
): Promise<pg.Pool> {
  // keepAlive: a server that vanished without closing its sockets (a host gone, a cable) is noticed by the
  // kernel instead of leaving pooled clients hanging forever.
  const pool = new pg.Pool({
    connectionString: config.databaseUrl,
    max: opts.max ?? 10,
    connectionTimeoutMillis: 5000,
    keepAlive: true,
    options: `-c search_path=${SEARCH_PATH.replace(/ /g, '')}`,
  });
  // An idle client's error (database restarted) must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  if (opts.applySchema !== false) await migrate(pool, { ...(opts.log ? { log: opts.log } : {}) });
  return pool;
}

/**
 * A bounded round trip: query_timeout makes a frozen server's silence an error after `timeoutMs` (pool.query
 * then discards that client), so health probes never pile up hung clients in a small pool.
 */
export const probeDb = async (pool: pg.Pool, timeoutMs = 2_000): Promise<void> => {
  // query_timeout is node-postgres' per-query client-side timeout (missing from its typings).
  await pool.query({ text: 'SELECT 1', query_timeout: timeoutMs } as pg.QueryConfig);
};

/** The readiness checks every process shares (src/platform/shared/health.ts); each probe is itself bounded. */
export const checks = {
  postgres: (pool: pg.Pool): ProbeCheck => ({ name: 'postgres', probe: () => probeDb(pool) }),
  dynamodb: (events: { probe: () => Promise<void> }): ProbeCheck => ({ name: 'dynamodb', probe: events.probe }),
  /** The broker answers metadata for the topic (through a managed admin: a wedged client is replaced). */
  kafka: (admin: ManagedAdmin, topic: string, required = true): ProbeCheck => ({
    name: 'kafka',
    required,
    probe: () => admin.use((a) => a.fetchTopicMetadata({ topics: [topic] })).then(() => undefined),
  }),
  /** The producer's own state; when a publish failed and nothing was published since, a fresh handshake. */
  kafkaProducer: (publisher: Pick<Publisher, 'health' | 'probe'>, required = true): ProbeCheck => ({
    name: 'kafka_producer',
    required,
    timeoutMs: 1_000,
    probe: async () => {
      if (publisher.health().ok || (await publisher.probe())) return;
      return publisher.health().last_error ?? 'the last publish failed';
    },
  }),
};

export function kafkaFor(config: Config, clientId: string, log: Logger): Kafka {
  return createKafka({ brokers: config.kafka.brokers, clientId, logger: log });
}
