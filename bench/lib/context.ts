/**
 * The infrastructure the benchmark runs on and the in-process clients every measurement shares.
 *
 * DynamoDB Local, PostgreSQL, MailDev and the dev Kafka broker come from the project's embedded stack
 * (startStack), each its own child process: the benchmark's own event loop times every request, and a broker
 * serving five shop processes on that loop would add its work to every latency measured here. The stack
 * generates this run's secrets (JWT_SECRET, ADMIN_PASSWORD) and puts them in `env`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Kafka } from 'kafkajs';
import { loadConfig, type Config } from '../../src/platform/shared/config.ts';
import { startStack, type Stack } from '../../src/devstack/stack.ts';
import { createDynamoClient, createDynamoEventStore, ensureTables, type EventStore } from '../../src/platform/eventstore/index.ts';
import { createKafka } from '../../src/platform/messaging/kafka.ts';
import { createPublisher, type Publisher } from '../../src/platform/messaging/publisher.ts';
import { ensureTopics } from '../../src/platform/messaging/topics.ts';
import { createLogger, type Logger } from '../../src/platform/shared/log.ts';

export interface Infra {
  env: Record<string, string>;
  dataDir: string;
  /** Lines the stack and the broker logged (printed only when something fails, or with BENCH_VERBOSE=1). */
  logs: string[];
  stop(): Promise<void>;
}

export async function startInfra(): Promise<Infra> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'ecshop-bench-'));
  const logs: string[] = [];
  const log = (line: string) => {
    logs.push(line);
    if (process.env.BENCH_VERBOSE) console.log(line);
  };
  let stack: Stack | undefined;
  const stop = async () => {
    await stack?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    stack = await startStack({ dataDir, ephemeral: true, log });
    return { env: stack.env, dataDir, logs, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** DynamoDB requests by command name, counted by a client middleware (to explain where a command's time goes). */
export type RequestCounter = Map<string, number> & {
  /** Milliseconds spent in requests of each name, from send to answer (the client's queueing included). */
  spentMs: Map<string, number>;
};

/**
 * The in-process measurements publish here, not to the shop's topic: the same broker, producer and partition
 * count, but the shop's consumers then start with no backlog. (A process that starts while projectors are
 * applying batches can deadlock with them in applySchema — see the report — and the api then dies at start.)
 */
export const BENCH_TOPIC = 'bench.checkout-events';

export interface Bench {
  config: Config;
  dynamo: DynamoDBClient;
  store: EventStore;
  requests: RequestCounter;
  kafka: Kafka;
  /** A real Kafka publisher on BENCH_TOPIC. */
  publisher: Publisher;
  log: Logger;
  close(): Promise<void>;
}

export function countRequests(client: DynamoDBClient): RequestCounter {
  const counts = Object.assign(new Map<string, number>(), { spentMs: new Map<string, number>() });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? 'unknown';
      counts.set(name, (counts.get(name) ?? 0) + 1);
      const t0 = performance.now();
      try {
        return await next(args);
      } finally {
        counts.spentMs.set(name, (counts.spentMs.get(name) ?? 0) + performance.now() - t0);
      }
    },
    { step: 'initialize', name: 'benchRequestCounter' },
  );
  return counts;
}

export const totalRequests = (counts: ReadonlyMap<string, number>): number => [...counts.values()].reduce((s, n) => s + n, 0);

export async function openBench(env: Record<string, string | undefined>): Promise<Bench> {
  const config = loadConfig(env);
  const log = createLogger('bench', { level: 'warn', write: (line) => process.stderr.write(`${line}\n`) });
  const dynamo = createDynamoClient({
    ...(config.dynamodb.endpoint ? { endpoint: config.dynamodb.endpoint } : {}),
    region: config.dynamodb.region,
  });
  const requests = countRequests(dynamo);
  await ensureTables(dynamo, config.dynamodb.tables);
  const store = createDynamoEventStore({ client: dynamo, tables: config.dynamodb.tables });
  const kafka = createKafka({ brokers: config.kafka.brokers, clientId: 'ec-shop-bench', logger: log });
  await ensureTopics(kafka, { topics: [config.kafka.topic, config.kafka.dlqTopic], partitions: config.kafka.partitions, log });
  await ensureTopics(kafka, { partitions: config.kafka.partitions, topics: [BENCH_TOPIC], log });
  const publisher = createPublisher(kafka, { topic: BENCH_TOPIC, log });
  await publisher.connect();
  return {
    config,
    dynamo,
    store,
    requests,
    kafka,
    publisher,
    log,
    async close() {
      await publisher.disconnect().catch(() => {});
      dynamo.destroy();
    },
  };
}
