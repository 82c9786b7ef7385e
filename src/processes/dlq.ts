// The ops CLI's composition root (`npm run dlq`): the dead-letter topic and the parked streams. cmd/dlq.ts
// checks the command line and prints what this returns.
import type { Config } from '../platform/shared/config.ts';
import type { Logger } from '../platform/shared/log.ts';
import { createDeadLetterAdmin } from '../platform/messaging/dlq-admin.ts';
import { isTransientError } from '../platform/messaging/retry.ts';
import { createParkingProjector } from '../composition/projections/parking.ts';
import { connectEventStore, connectReadDb, kafkaFor } from './infra.ts';

export type DlqCommand = 'list' | 'replay' | 'discard' | 'parked' | 'retry';
export const DLQ_COMMANDS: readonly DlqCommand[] = ['list', 'replay', 'discard', 'parked', 'retry'];

/** Runs one command; `arg` is the message id (`partition:offset`) or aggregate id, `status` filters a list. */
export async function runDlqCommand(
  config: Config,
  command: DlqCommand,
  opts: { arg?: string; status?: string },
  log: Logger,
): Promise<unknown> {
  const pool = await connectReadDb(config, { max: 2 });
  try {
    if (command === 'list' || command === 'replay' || command === 'discard') {
      const dlq = createDeadLetterAdmin({
        kafka: kafkaFor(config, 'ec-shop-dlq-cli', log),
        db: pool,
        dlqTopic: config.kafka.dlqTopic,
        targetTopic: config.kafka.topic,
      });
      if (command === 'list') return await dlq.list({ ...(opts.status ? { status: opts.status as 'open' } : {}), limit: 500 });
      if (!opts.arg) throw new Error(`${command} needs a message id (partition:offset)`);
      return command === 'replay' ? await dlq.replay(opts.arg) : await dlq.discard(opts.arg);
    }
    const events = await connectEventStore(config);
    try {
      const parked = createParkingProjector({ pool, eventStore: events.store, isTransient: isTransientError, log: (l) => log.info(l) });
      if (command === 'parked') return await parked.list(500);
      if (!opts.arg) throw new Error('retry needs an aggregate id');
      return (await parked.retry(opts.arg)) ?? { error: `stream ${opts.arg} is not parked` };
    } finally {
      events.close();
    }
  } finally {
    await pool.end();
  }
}
