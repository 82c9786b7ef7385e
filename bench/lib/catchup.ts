/**
 * Issue 10: catch-up. With the projectors stopped, a backlog of BACKLOG events (decided by the project's
 * deciders, see projector.ts) is published to the topic; then PROJECTORS projector processes start and the
 * clock runs until the `projector` group's lag is zero. Includes process start and the group join.
 */
import { encodeEnvelope } from '../../src/platform/messaging/codec.ts';
import { consumerLag } from '../../src/platform/messaging/lag.ts';
import { producerFor } from '../../src/platform/messaging/publisher.ts';
import { startShop } from '../../test/support/processes.ts';
import type { Bench } from './context.ts';
import { syntheticEvents } from './projector.ts';
import { ms, now, perSecond, rate, sleep } from './stats.ts';
import type { Row } from './table.ts';

const BACKLOG = 20_000;
const BUDGET_MS = 180_000;

export async function benchCatchUp(bench: Bench, projectors: number): Promise<Row> {
  const events = syntheticEvents(BACKLOG, `catchup-${process.pid}`);
  const producer = producerFor(bench.kafka);
  await producer.connect();
  try {
    for (let i = 0; i < events.length; i += 1_000) {
      await producer.send({ topic: bench.config.kafka.topic, acks: -1, messages: events.slice(i, i + 1_000).map(encodeEnvelope) });
    }
  } finally {
    await producer.disconnect();
  }
  const before = await consumerLag(bench.kafka, ['projector'], bench.config.kafka.topic);
  const t0 = now();
  const shop = await startShop({ projectors, kinds: ['projector'] });
  try {
    let joinedAt: number | undefined;
    for (;;) {
      if (now() - t0 > BUDGET_MS) throw new Error(`projector lag not zero after ${BUDGET_MS / 1000} s`);
      const lag = await consumerLag(bench.kafka, ['projector'], bench.config.kafka.topic).catch(() => undefined);
      const group = lag?.groups.find((g) => g.group === 'projector');
      if (joinedAt === undefined && group && group.members >= projectors && group.total_lag < before.total_lag) joinedAt = now();
      if (lag && lag.total_lag === 0) break;
      await sleep(100);
    }
    const total = now() - t0;
    const applying = total - ((joinedAt ?? t0) - t0);
    return {
      id: '3c',
      measurement: 'catch-up: projectors started behind a backlog, time to zero lag',
      n: `${BACKLOG.toLocaleString('en-US')} events (lag ${before.total_lag.toLocaleString('en-US')} at start), ${projectors} projectors`,
      result: `${ms(total)} to zero lag (process start and group join included)`,
      comparison: `≈ ${perSecond(rate(BACKLOG, Math.max(applying, 1)), 'events')} from the first committed batch`,
      note: 'the projectors were stopped while the backlog (synthetic events decided by the deciders, published straight to the topic) was written; lag is read every 100 ms from committed offsets.',
    };
  } finally {
    await shop.stop();
  }
}
