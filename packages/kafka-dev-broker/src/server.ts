/**
 * Wires one broker instance together: storage, the group coordinator, the API table and the TCP listener.
 * Everything hangs off the returned handle; nothing is module-global, so a test process can run several
 * brokers side by side.
 */
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import type { BrokerState } from './apis/api.ts';
import { apiTable } from './apis/index.ts';
import { Connection } from './connection.ts';
import { acquireDataDirLock } from './storage/lock.ts';
import { GroupCoordinator } from './group/coordinator.ts';
import { OffsetStore } from './storage/offsets.ts';
import { TopicStore } from './storage/topics.ts';

export interface BrokerOptions {
  /** TCP port; 0 picks a free one (read it from the result). Default 9092. */
  port?: number;
  /** Interface to bind. Default 127.0.0.1. */
  host?: string;
  /** Persist topics, messages and committed offsets here; without it everything lives in memory. */
  dataDir?: string;
  /** Partition count of auto-created topics and of CreateTopics with -1. Default 6. */
  defaultPartitions?: number;
  /** Receives one line per event worth knowing (listening, topics, rebalances, connection errors). */
  logger?: (line: string) => void;
  /** Kafka's group.initial.rebalance.delay.ms. Default 300 (Kafka: 3000, too slow for tests). */
  initialRebalanceDelayMs?: number;
  /** Kafka's group.min.session.timeout.ms. Default 6000, as in Kafka, so configs that fail there fail here. */
  minSessionTimeoutMs?: number;
  /** Size at which a partition starts a new segment file. Default 64 MiB. */
  segmentBytes?: number;
}

export interface RunningBroker {
  port: number;
  host: string;
  close(): Promise<void>;
}

/** Kafka's socket.request.max.bytes is 100 MiB; larger frames are garbage or abuse. */
const MAX_FRAME_BYTES = 100 * 1024 * 1024;
/** Kafka's message.max.bytes default: the largest record batch a producer may send. */
const MAX_BATCH_BYTES = 1_048_588;
const MAX_SESSION_TIMEOUT_MS = 1_800_000;

function positiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0) throw new Error(`broker option ${name} must be a non-negative integer, got ${value}`);
  return value;
}

export async function startBroker(opts: BrokerOptions = {}): Promise<RunningBroker> {
  const log = opts.logger ?? ((line: string) => process.stderr.write(`[dev-broker] ${line}\n`));
  const host = opts.host ?? '127.0.0.1';
  const port = positiveInt('port', opts.port ?? 9092);
  const defaultPartitions = positiveInt('defaultPartitions', opts.defaultPartitions ?? 6);
  if (defaultPartitions < 1) throw new Error('broker option defaultPartitions must be at least 1');
  const dataDir = opts.dataDir ? path.resolve(opts.dataDir) : null;

  const releaseLock = dataDir ? acquireDataDirLock(dataDir) : () => {};
  const offsets = new OffsetStore(dataDir, log);
  const topics = new TopicStore({ dataDir, segmentBytes: positiveInt('segmentBytes', opts.segmentBytes ?? 64 * 1024 * 1024), log });
  const coordinator = new GroupCoordinator({
    initialRebalanceDelayMs: positiveInt('initialRebalanceDelayMs', opts.initialRebalanceDelayMs ?? 300),
    minSessionTimeoutMs: positiveInt('minSessionTimeoutMs', opts.minSessionTimeoutMs ?? 6000),
    maxSessionTimeoutMs: MAX_SESSION_TIMEOUT_MS,
    offsets,
    log,
  });
  let lastProducerId = 0;
  const broker: BrokerState = {
    settings: { defaultPartitions, autoCreateTopics: true, maxBatchBytes: MAX_BATCH_BYTES },
    topics,
    offsets,
    coordinator,
    nextProducerId: () => (lastProducerId = Math.max(lastProducerId + 1, Date.now())),
    log,
  };
  const shutdownStorage = (): void => {
    coordinator.close();
    topics.close();
    offsets.close();
    releaseLock();
  };

  const deps = { apis: apiTable(), broker, maxFrameBytes: MAX_FRAME_BYTES };
  const connections = new Set<Connection>();
  const server = net.createServer((socket) => {
    const c = new Connection(socket, deps);
    connections.add(c);
    socket.once('close', () => connections.delete(c));
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    shutdownStorage();
    throw err;
  }
  server.on('error', (err) => log(`server error: ${err.message}`));
  const bound = (server.address() as AddressInfo).port;
  log(`listening on ${host}:${bound} (${dataDir ? `data in ${dataDir}` : 'in memory'}, ${defaultPartitions} partitions per new topic)`);

  let closing: Promise<void> | null = null;
  return {
    port: bound,
    host,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const c of connections) c.destroy();
        shutdownStorage();
      }).then(() => log(`stopped listening on ${host}:${bound}`));
      return closing;
    },
  };
}
