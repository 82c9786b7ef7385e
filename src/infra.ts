import pg from 'pg';
import type { Kafka } from 'kafkajs';
import type { Config } from './config.ts';
import { createDynamoClient, createDynamoEventStore, createDynamoSessionStore, ensureTables, type SessionStore } from './eventstore/index.ts';
import type { EventStore } from './eventstore/types.ts';
import { createKafka } from './messaging/kafka.ts';
import { applySchema } from './readmodel/schema.ts';
import type { Logger } from './shared/log.ts';

/**
 * Builders for the infrastructure clients every process shares. Each takes the parsed config; nothing here is
 * a module-level singleton. Creating tables and the schema is idempotent, so any process may start first.
 */
export async function connectEventStore(config: Config): Promise<{ store: EventStore; sessions: SessionStore; ping: () => Promise<boolean>; close: () => void }> {
  const client = createDynamoClient({ ...(config.dynamodb.endpoint ? { endpoint: config.dynamodb.endpoint } : {}), region: config.dynamodb.region });
  await ensureTables(client, config.dynamodb.tables);
  const store = createDynamoEventStore({ client, tables: config.dynamodb.tables });
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
    close: () => client.destroy(),
  };
}

export async function connectReadDb(config: Config, opts: { max?: number; applySchema?: boolean } = {}): Promise<pg.Pool> {
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: opts.max ?? 10, connectionTimeoutMillis: 5000 });
  // An idle client's error (database restarted) must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  if (opts.applySchema !== false) await applySchema(pool);
  return pool;
}

export const pingDb = async (pool: pg.Pool): Promise<boolean> => {
  try {
    await pool.query('SELECT 1');
    return true;
  } catch {
    return false;
  }
};

export function kafkaFor(config: Config, clientId: string, log: Logger): Kafka {
  return createKafka({ brokers: config.kafka.brokers, clientId, logger: log });
}
