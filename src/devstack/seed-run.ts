// The seed's composition root (a development tool, so it lives in src/devstack and never ships in the image):
// writes a generated shop history (src/devstack/seed.ts) straight into the DynamoDB event store of the configured
// stack. cmd/seed.ts parses the command line and calls it; `npm run rebuild` then projects what it wrote.
import type { Config } from '../platform/shared/config.ts';
import { createDynamoClient, ensureTables } from '../platform/eventstore/index.ts';
import { generateShop, writeEvents } from './seed.ts';

export interface SeedRun {
  events: number;
  seed: number;
  prefix?: string;
}

export interface SeedReport {
  written: number;
  seconds: number;
  table: string;
}

/** Generates and writes `run.events` events; the next chunk is generated while the previous one is written, so at
 * most two chunks are in memory whatever the size. */
export async function runSeed(config: Config, run: SeedRun, progress: (line: string) => void = () => {}): Promise<SeedReport> {
  const client = createDynamoClient({
    ...(config.dynamodb.endpoint ? { endpoint: config.dynamodb.endpoint } : {}),
    region: config.dynamodb.region,
  });
  const table = config.dynamodb.tables.events;
  try {
    await ensureTables(client, config.dynamodb.tables);
    const started = Date.now();
    let written = 0;
    let lastLog = started;
    let pending: Promise<void> = Promise.resolve();
    for (const chunk of generateShop({ events: run.events, seed: run.seed, ...(run.prefix ? { prefix: run.prefix } : {}) })) {
      await pending;
      pending = writeEvents(client, table, chunk).then(() => {
        written += chunk.length;
        if (Date.now() - lastLog > 2000) {
          lastLog = Date.now();
          progress(`seed: ${written} / ~${run.events} events, ${Math.round((written / (Date.now() - started)) * 1000)} events/s`);
        }
      });
    }
    await pending;
    return { written, seconds: (Date.now() - started) / 1000, table };
  } finally {
    client.destroy();
  }
}
