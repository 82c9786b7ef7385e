/**
 * Issue 10 through the real processes: a record nobody can decode is dead-lettered by the consumers, listed by
 * GET /ops/dlq?list=1, and POST /ops/dlq/{id}/replay puts it back onto ec-events (where it is dead-lettered
 * again: replay is for after a fix). GET /ops/parked answers the parked streams (none in a healthy shop).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createKafka } from '../../src/platform/messaging/kafka.ts';
import { producerFor } from '../../src/platform/messaging/publisher.ts';
import { createLogger } from '../../src/platform/shared/log.ts';
import { kafkaTopics } from '../../src/platform/shared/config.ts';
import { stackEnv, uniq } from '../support/env.ts';
import { eventually } from '../support/http.ts';
import { assertProblem, useShop, type ShopFixture } from '../support/shop.ts';

const { topic: TOPIC_EVENTS } = kafkaTopics();

let f: ShopFixture;
useShop((fixture) => (f = fixture));

interface Listed {
  id: string;
  key: string | null;
  status: string;
  consumer_group: string | null;
  error: string | null;
}

test(
  'an undecodable record is listed one by one in GET /ops/dlq?list=1 and replayed by POST /ops/dlq/{id}/replay',
  { timeout: 180_000 },
  async () => {
    const { a, admin } = f;
    const key = uniq('garbage');
    const kafka = createKafka({
      brokers: stackEnv().kafkaBrokers,
      clientId: uniq('ops-test'),
      logger: createLogger('kafkajs', { level: 'error', write: () => {} }),
      logLevel: 'error',
    });
    const producer = producerFor(kafka);
    await producer.connect();
    await producer.send({ topic: TOPIC_EVENTS, acks: -1, messages: [{ key, value: '{"not": "an envelope"' }] });
    await producer.disconnect();

    const mine = async (): Promise<Listed[]> => {
      const res = await a.http.get('/ops/dlq?list=1&limit=500', admin);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return (res.body.items as Listed[]).filter((d) => d.key === key);
    };
    // Each of the three groups dead-letters it.
    const listed = await eventually(
      async () => {
        const found = await mine();
        return found.length >= 3 ? found : undefined;
      },
      { what: 'the garbage record dead-lettered by every group', timeoutMs: 60_000, intervalMs: 1_000 },
    );
    assert.deepEqual(new Set(listed.map((d) => d.consumer_group)), new Set(['projector', 'email-notifier', 'fulfillment']));
    assert.ok(
      listed.every((d) => d.status === 'open' && /PoisonMessageError/.test(d.error ?? '')),
      JSON.stringify(listed),
    );

    const replayed = await a.http.post(`/ops/dlq/${listed[0]!.id}/replay`, {}, admin);
    assert.equal(replayed.status, 200, JSON.stringify(replayed.body));
    assert.equal(replayed.body.status, 'replayed');
    // Still undecodable, so each group dead-letters the replayed copy again: three more.
    await eventually(async () => ((await mine()).length >= 6 ? true : undefined), {
      what: 'the replayed copy dead-lettered again',
      timeoutMs: 60_000,
      intervalMs: 1_000,
    });
    assert.equal((await mine()).filter((d) => d.status === 'replayed').length, 1);

    const malformed = await a.http.post('/ops/dlq/not-an-id/replay', {}, admin);
    assertProblem(malformed, undefined, 'a malformed id');
    assert.ok([400, 422].includes(malformed.status), `a malformed id: ${malformed.status}`);
    const parked = await a.http.get('/ops/parked', admin);
    assert.equal(parked.status, 200);
    assert.deepEqual(parked.body, { items: [] });
  },
);
