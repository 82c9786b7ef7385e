import type { Config } from '../platform/shared/config.ts';
import { checks, connectEventStore, connectReadDb } from './infra.ts';
import { isTransientError } from '../platform/messaging/retry.ts';
import { createPacer, pacedBatches } from '../platform/projections/pacer.ts';
import { createParkingProjector } from '../composition/projections/parking.ts';
import { pruneProcessedEvents } from '../platform/projections/pruning.ts';
import type { Logger } from '../platform/shared/log.ts';
import { startConsumerProcess } from './consumer-process.ts';

/** processed_events rows older than this are pruned (PROCESSED_EVENTS_KEEP_DAYS; see pruning.ts). */
const keepDays = Number(process.env.PROCESSED_EVENTS_KEEP_DAYS ?? 30);

/** Consumer group `projector`: builds the read_* tables. Scale out with more processes (one per partition at most). */
export async function startProjector(config: Config, log: Logger) {
  const events = await connectEventStore(config);
  const pool = await connectReadDb(config, { max: 5 });
  // A stream whose event fails for a non-transient reason is parked (parking.ts); outages are rethrown and waited out.
  const projector = createParkingProjector({
    pool,
    eventStore: events.store,
    isTransient: isTransientError,
    log: (line) => log.info(line),
  });
  // A fetched batch is applied in chunks sized to take ~1 s, heartbeating between them (pacer.ts).
  const pacer = createPacer();
  const prune = async () => {
    const deleted = await pruneProcessedEvents(pool, { keepDays }).catch((err: unknown) => {
      log.warn('processed_events pruning failed; will try again', { error: err });
      return 0;
    });
    if (deleted > 0) log.info('pruned processed_events', { deleted, keep_days: keepDays });
  };
  const pruning = setInterval(() => void prune(), 3_600_000);
  pruning.unref();
  return startConsumerProcess({
    name: 'projector',
    groupId: 'projector',
    config,
    log,
    handleBatch: pacedBatches(
      (chunk) => projector.applyBatch(chunk),
      pacer,
      (result) => {
        if (result.parked.length > 0) log.error('streams parked: see GET /ops/parked', { streams: result.parked });
      },
    ),
    checks: [checks.postgres(pool), checks.dynamodb(events)],
    close: async () => {
      clearInterval(pruning);
      await pool.end();
      events.close();
    },
  });
}
