/**
 * Issue 10: liveness under backlog. A member working through a 20,000-event backlog must not be evicted from its
 * group: the projector applies each fetched batch in paced chunks and heartbeats between them. Here every
 * fetched batch is made to take longer than the session timeout (a slow database, simulated per event), so a
 * member that did not heartbeat would lose its partition mid-batch and see events again; this one applies every
 * event exactly once, with no restart and no redelivery.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startBroker } from 'kafka-dev-broker';
import { createKafka } from '../../src/platform/messaging/kafka.ts';
import { createPublisher } from '../../src/platform/messaging/publisher.ts';
import { ensureTopics } from '../../src/platform/messaging/topics.ts';
import { runConsumer } from '../../src/platform/messaging/consumer.ts';
import { silentLogger } from '../../src/platform/messaging/log.ts';
import { isTransientError } from '../../src/platform/messaging/retry.ts';
import { createPacer, pacedBatches } from '../../src/platform/projections/pacer.ts';
import { createParkingProjector } from '../../src/composition/projections/parking.ts';
import { stream, tickingClock } from '../support/projection.ts';
import type { EventEnvelope } from '../../src/platform/shared/envelope.ts';
import { createLogger } from '../../src/platform/shared/log.ts';
import { uniq } from '../support/env.ts';
import type { TestDatabase } from './projections-fixtures.ts';
import { createTestDatabase } from './projections-fixtures.ts';

const SESSION_TIMEOUT = 6_000;
const BACKLOG = 20_000;
const SLOW_MS_PER_EVENT = 4;

let db: TestDatabase | undefined;
let closeBroker: (() => Promise<void>) | undefined;
after(async () => {
  await db?.drop();
  await closeBroker?.();
});

test('a 20,000-event backlog is worked through without the member being evicted from its group', { timeout: 240_000 }, async (t) => {
  db = await createTestDatabase();
  const broker = await startBroker({ port: 0, logger: () => {} });
  closeBroker = () => broker.close();
  const kafka = createKafka({
    brokers: [`${broker.host}:${broker.port}`],
    clientId: uniq('backlog'),
    logger: createLogger('kafkajs', { level: 'error', write: () => {} }),
    logLevel: 'error',
  });
  const topic = uniq('ec-events-backlog');
  await ensureTopics(kafka, { topics: [topic, `${topic}.dlq`], partitions: 1 });

  const clock = tickingClock();
  const events: EventEnvelope[] = [];
  for (let u = 0; events.length < BACKLOG; u++) {
    const user = uniq('bl');
    const s = stream('Cart', `cart-${user}`, clock);
    for (let i = 1; i <= 10; i++)
      events.push(
        s.next('ItemAddedToCart', {
          cart_id: `cart-${user}`,
          user_id: user,
          product_id: `p${i}`,
          quantity: 1,
          line_quantity: 1,
          price: 100,
          name: `p${i}`,
        }),
      );
  }
  const publisher = createPublisher(kafka, { topic });
  for (let i = 0; i < events.length; i += 200) await publisher.publish(events.slice(i, i + 200));
  await publisher.disconnect();

  const projector = createParkingProjector({ pool: db.pool, isTransient: isTransientError });
  const totals = { applied: 0, duplicates: 0, batches: [] as Array<{ events: number; ms: number }> };
  const paced = pacedBatches(
    async (chunk) => {
      await sleep(chunk.length * SLOW_MS_PER_EVENT); // the slow database
      return projector.applyBatch(chunk);
    },
    createPacer({ targetMs: 500, initial: 200 }),
    (r) => {
      totals.applied += r.applied;
      totals.duplicates += r.duplicates;
    },
  );
  const consumer = runConsumer({
    kafka,
    groupId: uniq('backlog-group'),
    topic,
    dlqTopic: `${topic}.dlq`,
    sessionTimeout: SESSION_TIMEOUT,
    rebalanceTimeout: SESSION_TIMEOUT,
    maxWaitTimeInMs: 200,
    log: silentLogger(),
    handleBatch: async (batch, ctx) => {
      const started = Date.now();
      await paced(batch, ctx);
      totals.batches.push({ events: batch.length, ms: Date.now() - started });
    },
  });
  try {
    await consumer.ready;
    const deadline = Date.now() + 200_000;
    while (totals.applied + totals.duplicates < BACKLOG && Date.now() < deadline) await sleep(200);
    t.diagnostic(`fetched batches: ${totals.batches.map((b) => `${b.events} events in ${b.ms} ms`).join(', ')}`);
    assert.ok(
      totals.batches.some((b) => b.ms > SESSION_TIMEOUT),
      'some fetched batch took longer than the session timeout (else this test proves nothing)',
    );
    assert.equal(totals.applied, BACKLOG);
    assert.equal(totals.duplicates, 0, 'no event was delivered twice: the partition never moved');
    assert.equal(consumer.health().restarts, 0);
    assert.equal(consumer.stats().retries, 0);
  } finally {
    await consumer.stop();
  }
});
