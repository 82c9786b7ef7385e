/**
 * The broker's faults of issue 9 as test bodies, shared by the fault test files that run them (each file has a
 * shop of its own, see faults.ts, and stays well inside the runner's per-file timeout): the broker frozen
 * (SIGSTOP) for 30 s, and the broker killed (SIGKILL) and restarted on the same port and data directory. While
 * each fault lasts, health must say the truth at once; afterwards underFault checks the recovery.
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createKafka } from '../../src/platform/messaging/kafka.ts';
import { createLagMonitor } from '../../src/platform/messaging/lag.ts';
import { silentLogger } from '../../src/platform/messaging/log.ts';
import { createManagedAdmin } from '../../src/platform/messaging/managed.ts';
import { createPublisher } from '../../src/platform/messaging/publisher.ts';
import { ensureTopics } from '../../src/platform/messaging/topics.ts';
import { envelopeOf } from './envelopes.ts';
import { assertHealthBack, opsUrl, timedGet, underFault, type FaultShop, type ShopActorsOf } from './faults.ts';
import { eventually } from './http.ts';

const FREEZE_MS = 30_000;
/** From the end of the fault to "everything settled": generous, the machine is shared and loaded. */
const RECOVERY_BOUND_MS = 90_000;

export const brokerFrozenTitle = (run: number, of: number) =>
  `the broker frozen for 30 s (SIGSTOP), run ${run} of ${of}: health names Kafka at once; afterwards nothing lost, nothing twice, nothing stuck`;

/**
 * Run 1 also brings up Kafka clients while the broker is frozen: their first handshake times out, the state
 * kafkajs never leaves by itself (src/platform/messaging/managed.ts). They must work once the broker is back.
 */
export async function brokerFrozen(t: TestContext, f: FaultShop, actors: ShopActorsOf, run: number): Promise<void> {
  const fresh = run === 1 ? await freshClientsDuringFreeze(f) : undefined;
  const { healedAt } = await underFault(t, f, actors, {
    seed: 4000 + run,
    faultMs: FREEZE_MS,
    boundMs: RECOVERY_BOUND_MS,
    inject: () => f.broker.freeze(),
    heal: () => f.broker.thaw(),
    during: async (faultAt) => {
      await Promise.all([healthDuringBrokerOutage(t, f, faultAt, 'broker frozen', { consumers: true }), fresh?.start(faultAt)]);
    },
  });
  if (fresh) await fresh.afterThaw(t, healedAt);
  await assertHealthBack(t, f, healedAt);
}

export const brokerKilledTitle =
  'the broker killed (SIGKILL) and restarted on the same port and data dir: every client reconnects; nothing lost, nothing twice, nothing stuck';

export async function brokerKilledAndRestarted(t: TestContext, f: FaultShop, actors: ShopActorsOf): Promise<void> {
  const { healedAt } = await underFault(t, f, actors, {
    seed: 5000,
    faultMs: 12_000,
    boundMs: RECOVERY_BOUND_MS,
    inject: () => f.broker.kill(),
    heal: () => f.broker.restart(),
    during: (faultAt) => healthDuringBrokerOutage(t, f, faultAt, 'broker dead', { consumers: false }),
  });
  await assertHealthBack(t, f, healedAt);
}

/** What health says while the broker is frozen or gone: at once, and naming Kafka. */
async function healthDuringBrokerOutage(
  t: TestContext,
  f: FaultShop,
  faultAt: number,
  what: string,
  opts: { consumers: boolean },
): Promise<void> {
  const admin = { authorization: `Bearer ${f.admin}` };
  // Give the probes (1 s timeout) and one publish deadline (5 s) time to notice.
  await sleep(Math.max(0, faultAt + 7_000 - Date.now()));
  const api = await timedGet(`${f.shop.baseUrl}/readyz`);
  assert.ok(api.ms < 1_000, `api /readyz answered in ${api.ms} ms`);
  assert.equal(api.status, 200, 'the api stays ready: commands are accepted, their events wait in the outbox');
  assert.ok(api.body.down.includes('kafka'), `api names kafka as down: ${JSON.stringify(api.body.down)}`);
  const worker = await timedGet(`${opsUrl(f, 'worker')}/readyz`);
  assert.ok(worker.ms < 1_000, `worker /readyz answered in ${worker.ms} ms`);
  assert.equal(worker.status, 503, `the worker cannot do its job: ${JSON.stringify(worker.body)}`);
  assert.ok(worker.body.down.includes('kafka'), `worker names kafka: ${JSON.stringify(worker.body.down)}`);
  const lag = await timedGet(`${f.shop.baseUrl}/ops/lag`, admin);
  assert.equal(lag.status, 200, `/ops/lag answers: ${JSON.stringify(lag.body)}`);
  assert.ok(lag.ms < 2_500, `/ops/lag answered in ${lag.ms} ms`);
  assert.equal(lag.body.stale, true, 'and says its report is stale');
  let consumer = 'not checked';
  if (opts.consumers) {
    // Consumers notice once a few rounds of fetches and heartbeats went unanswered (15 s).
    await sleep(Math.max(0, faultAt + 22_000 - Date.now()));
    const projector = await timedGet(`${opsUrl(f, 'projector')}/readyz`);
    assert.ok(projector.ms < 1_000, `projector /readyz answered in ${projector.ms} ms`);
    assert.equal(projector.status, 503, `the projector is not consuming: ${JSON.stringify(projector.body)}`);
    assert.ok(projector.body.down.includes('consumer'), `projector names its consumer: ${JSON.stringify(projector.body.down)}`);
    consumer = `${projector.ms} ms → ${projector.status} (down: ${projector.body.down.join(', ')})`;
  }
  t.diagnostic(
    `${what}: api /readyz ${api.ms} ms → ${api.status} (down: ${api.body.down.join(', ')}), worker /readyz ${worker.ms} ms → ${worker.status} (down: ${worker.body.down.join(', ')}), projector /readyz ${consumer}, /ops/lag ${lag.ms} ms → ${lag.status} (stale, as of ${lag.body.as_of})`,
  );
}

/**
 * A publisher and a lag monitor made while the broker is frozen (as a process starting or reconnecting then
 * would): their handshakes time out during the freeze; after it, without any restart, they must work.
 */
async function freshClientsDuringFreeze(f: FaultShop) {
  const kafka = createKafka({ brokers: [`127.0.0.1:${f.broker.port}`], clientId: 'faults-fresh', logLevel: 'nothing' });
  const topic = 'faults.fresh-clients';
  await ensureTopics(kafka, { topics: [topic], partitions: 1 });
  const publisher = createPublisher(kafka, { topic, timeoutMs: 5_000 });
  const lag = createLagMonitor({ admin: createManagedAdmin(kafka, silentLogger()), groups: ['projector'], topic, log: silentLogger() });
  const event = () => envelopeOf('Order', 'fresh-client-probe', 1, 'ProbeSent', {});
  let duringFreeze = '';
  return {
    async start(faultAt: number) {
      await sleep(Math.max(0, faultAt + 1_000 - Date.now()));
      const attempt = await publisher.publish([event()]).then(
        () => 'published',
        (err: Error) => err.name,
      );
      const report = await lag.current();
      duringFreeze = `publish → ${attempt}, lag report stale=${report.stale}`;
      assert.notEqual(attempt, 'published', 'nothing is acknowledged by a frozen broker');
      // A second try after the handshake timed out (10 s): in the wedged state this fails at once, forever.
      await sleep(Math.max(0, faultAt + 14_000 - Date.now()));
      await publisher.publish([event()]).catch(() => {});
    },
    async afterThaw(t: TestContext, healedAt: number) {
      try {
        await eventually(
          () =>
            publisher.publish([event()]).then(
              () => true,
              () => false,
            ),
          { what: 'a publisher made during the freeze to publish', timeoutMs: 20_000, intervalMs: 250 },
        );
        const published = Date.now() - healedAt;
        const report = await eventually(
          async () => {
            const r = await lag.current();
            return r.stale ? undefined : r;
          },
          { what: 'a lag monitor made during the freeze to report', timeoutMs: 20_000, intervalMs: 250 },
        );
        t.diagnostic(
          `clients made during the freeze (${duringFreeze}): publishing ${published} ms after the thaw, lag report (total ${report.total_lag}) ${Date.now() - healedAt} ms after; producer replacements: ${publisher.health().replacements}`,
        );
      } finally {
        await publisher.disconnect().catch(() => {});
      }
    },
  };
}
