// `npm run rebuild`: rebuild every read_* table from the event store (001, 004), against the configured stack.
import { loadConfig } from '../src/config.ts';
import { connectEventStore, connectReadDb } from '../src/infra.ts';
import { rebuildAll } from '../src/projections/rebuild.ts';
import { createLogger } from '../src/shared/log.ts';

const log = createLogger('rebuild');
// No tokens here: the rebuild needs the stores' addresses (DATABASE_URL, DYNAMODB_ENDPOINT), not the secrets.
const config = loadConfig(process.env, { secrets: false });
const events = await connectEventStore(config);
const pool = await connectReadDb(config, { max: 6 });
try {
  const report = await rebuildAll({ pool, eventStore: events.store, log: (line) => log.info(line) });
  log.info('read model rebuilt', { ...report, truncated: report.truncated.length });
} finally {
  await pool.end();
  events.close();
}
