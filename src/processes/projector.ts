import type { Config } from '../config.ts';
import { checks, connectEventStore, connectReadDb } from '../infra.ts';
import { createProjectionRunner } from '../projections/runner.ts';
import type { Logger } from '../shared/log.ts';
import { startConsumerProcess } from './consumer-process.ts';

/** Consumer group `projector`: builds the read_* tables. Scale out with more processes (one per partition at most). */
export async function startProjector(config: Config, log: Logger) {
  const events = await connectEventStore(config);
  const pool = await connectReadDb(config, { max: 5 });
  const runner = createProjectionRunner({ pool, eventStore: events.store, log: (line) => log.info(line) });
  return startConsumerProcess({
    name: 'projector',
    groupId: 'projector',
    config,
    log,
    handleBatch: async (batch) => {
      await runner.applyBatch(batch);
    },
    checks: [checks.postgres(pool), checks.dynamodb(events)],
    close: async () => {
      await pool.end();
      events.close();
    },
  });
}
