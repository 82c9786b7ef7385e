// `npm run dlq -- list [--status open|replayed|discarded] | replay <partition:offset> | discard <partition:offset>`
// and `npm run dlq -- parked | retry <aggregate_id>`: the dead-letter topic and parked streams, from a terminal.
import { loadConfig } from '../src/platform/shared/config.ts';
import { connectEventStore, connectReadDb, kafkaFor } from '../src/processes/infra.ts';
import { createDeadLetterAdmin } from '../src/platform/messaging/dlq-admin.ts';
import { isTransientError } from '../src/platform/messaging/retry.ts';
import { createParkingProjector } from '../src/composition/projections/parking.ts';
import { createLogger } from '../src/platform/shared/log.ts';

const USAGE =
  'usage: npm run dlq -- list [--status open|replayed|discarded] | replay <partition:offset> | discard <partition:offset> | parked | retry <aggregate_id>';
const [command, arg, value] = process.argv.slice(2);
if (!['list', 'replay', 'discard', 'parked', 'retry'].includes(command ?? '')) {
  process.stderr.write(`${USAGE}\n`);
  process.exit(2);
}
const log = createLogger('dlq');
const config = loadConfig(process.env, { secrets: false });
const pool = await connectReadDb(config, { max: 2 });
const out = (v: unknown) => process.stdout.write(`${JSON.stringify(v, null, 2)}\n`);
try {
  if (command === 'list' || command === 'replay' || command === 'discard') {
    const dlq = createDeadLetterAdmin({
      kafka: kafkaFor(config, 'ec-shop-dlq-cli', log),
      db: pool,
      dlqTopic: config.kafka.dlqTopic,
      targetTopic: config.kafka.topic,
    });
    if (command === 'list') out(await dlq.list({ ...(arg === '--status' && value ? { status: value as 'open' } : {}), limit: 500 }));
    else if (!arg) throw new Error(USAGE);
    else out(command === 'replay' ? await dlq.replay(arg) : await dlq.discard(arg));
  } else if (command === 'parked' || command === 'retry') {
    const events = await connectEventStore(config);
    try {
      const parked = createParkingProjector({ pool, eventStore: events.store, isTransient: isTransientError, log: (l) => log.info(l) });
      if (command === 'parked') out(await parked.list(500));
      else if (!arg) throw new Error(USAGE);
      else out((await parked.retry(arg)) ?? { error: `stream ${arg} is not parked` });
    } finally {
      events.close();
    }
  } else {
    throw new Error(USAGE);
  }
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await pool.end();
}
