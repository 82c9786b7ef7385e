import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { freePort, spawnManaged, waitForPort, type ManagedProcess } from '../../src/devstack/process.ts';
import { stackEnv, uniq } from './env.ts';
import { startShop, type ShopProcesses } from './processes.ts';
import { shopActors, type ShopActors } from './shop.ts';
import { BROKER_BIN } from 'kafka-dev-broker';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface IsolatedShop {
  shop: ShopProcesses;
  a: ShopActors;
  admin: string;
  /** This shop's own database (read model, saga log, timers, the simulated carrier's books). */
  db: pg.Pool;
  /** The environment every process of this shop got (pass it to processes spawned later). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * A shop of its own on the shared servers: its own Kafka broker (a dev-broker process), its own PostgreSQL
 * database and its own DynamoDB tables; only MailDev is shared (mail is told apart by recipient). Needed where a
 * test must know which processes do the work — e.g. the fulfilment saga's outcome depends on the worker's
 * SHIPMENT_FAILURE_RATE, and every worker sharing a database fires every timer in it — or where killing a
 * process must not stall the other test files' consumer groups.
 */
export async function startIsolatedShop(opts: { env?: Record<string, string>; projectors?: number } = {}): Promise<IsolatedShop> {
  const id = uniq('iso').replace(/-/g, '_');
  const kafkaPort = await freePort();
  const broker: ManagedProcess = spawnManaged('broker', process.execPath, ['--import', 'tsx', BROKER_BIN, '--port', String(kafkaPort)], {
    cwd: ROOT,
    env: process.env,
    log: (line) => process.env.SHOP_VERBOSE && console.log(line),
  });
  await waitForPort(kafkaPort, '127.0.0.1', 30_000, broker.exited);

  const server = new pg.Client({ connectionString: stackEnv().databaseUrl });
  await server.connect();
  try {
    await server.query(`CREATE DATABASE ${id}`);
  } finally {
    await server.end();
  }
  const url = new URL(stackEnv().databaseUrl);
  url.pathname = `/${id}`;

  const env: Record<string, string> = {
    KAFKA_BROKERS: `127.0.0.1:${kafkaPort}`,
    DATABASE_URL: url.toString(),
    DYNAMODB_TABLE_EVENTS: `${id}_events`,
    DYNAMODB_TABLE_SNAPSHOTS: `${id}_snapshots`,
    DYNAMODB_TABLE_IDEMPOTENCY: `${id}_idempotency`,
    ...opts.env,
  };
  let shop: ShopProcesses;
  try {
    shop = await startShop({ env, ...(opts.projectors ? { projectors: opts.projectors } : {}) });
  } catch (err) {
    await broker.stop();
    throw err;
  }
  const db = new pg.Pool({ connectionString: url.toString(), max: 4 });
  db.on('error', () => {});
  const a = shopActors(shop.baseUrl);
  return {
    shop,
    a,
    admin: await a.admin(),
    db,
    env,
    async stop() {
      await shop.stop();
      await broker.stop();
      await db.end();
    },
  };
}
