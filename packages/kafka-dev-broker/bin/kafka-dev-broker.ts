#!/usr/bin/env -S node --import tsx
/**
 * The dev Kafka broker in the foreground:
 *   kafka-dev-broker [--port 9092] [--host 127.0.0.1] [--data-dir DIR] [--partitions 6]
 * Stops cleanly on SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { startBroker } from '../src/index.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '9092' },
    host: { type: 'string', default: '127.0.0.1' },
    'data-dir': { type: 'string' },
    partitions: { type: 'string', default: '6' },
  },
  strict: true,
});

const int = (name: string, raw: string): number => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`--${name} must be a non-negative integer, got '${raw}'`);
    process.exit(2);
  }
  return n;
};

const broker = await startBroker({
  port: int('port', values.port),
  host: values.host,
  dataDir: values['data-dir'],
  defaultPartitions: int('partitions', values.partitions),
  logger: (line) => console.log(`${new Date().toISOString()} broker: ${line}`),
});

const stop = (signal: string): void => {
  console.log(`${new Date().toISOString()} broker: ${signal} received, shutting down`);
  broker.close().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
};
process.once('SIGINT', () => stop('SIGINT'));
process.once('SIGTERM', () => stop('SIGTERM'));
