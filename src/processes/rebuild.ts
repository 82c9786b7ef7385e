// The rebuild's composition root: connects the event store and the read database, runs the blue/green rebuild
// (src/composition/projections/rebuild.ts) and closes them. cmd/rebuild.ts parses the command line and calls it.
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import type { Config } from '../platform/shared/config.ts';
import { createDynamoClient } from '../platform/eventstore/index.ts';
import type { Logger } from '../platform/shared/log.ts';
import { rebuild } from '../composition/projections/rebuild.ts';
import { connectEventStore, connectReadDb } from './infra.ts';

export interface RebuildRun {
  projection?: string;
  segments?: number;
  batchSize?: number;
}

/** Rebuilds the read model (or one family) and logs the report with this process's peak memory. */
export async function runRebuild(config: Config, run: RebuildRun, log: Logger): Promise<void> {
  const events = await connectEventStore(config);
  const pool = await connectReadDb(config, { max: 4 });
  const dynamo = createDynamoClient({
    ...(config.dynamodb.endpoint ? { endpoint: config.dynamodb.endpoint } : {}),
    region: config.dynamodb.region,
  });
  try {
    const report = await rebuild({
      pool,
      eventStore: events.store,
      ...(run.projection ? { projection: run.projection } : {}),
      ...(run.segments ? { segments: run.segments } : {}),
      ...(run.batchSize ? { batchSize: run.batchSize } : {}),
      estimateTotal: async () =>
        (await dynamo.send(new DescribeTableCommand({ TableName: config.dynamodb.tables.events }))).Table?.ItemCount,
      log: (line) => log.info(line),
    });
    // Peak resident memory of this process (it must not grow with the store: the bench compares 20k and 200k).
    const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
    log.info('read model rebuilt', { ...report, replaced: report.replaced.join(','), peak_rss_mb: peakRssMb });
  } finally {
    dynamo.destroy();
    await pool.end();
    events.close();
  }
}
