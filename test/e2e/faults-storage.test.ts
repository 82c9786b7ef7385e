/**
 * Issue 9, the read side's and the processes' faults, against the real processes under a steady workload: the
 * whole PostgreSQL server frozen for 30 s (SIGSTOP to the postmaster and every backend), and a projector and the
 * worker killed (kill -9) mid-stream and started again. While PostgreSQL is frozen, health must say so at once;
 * afterwards, within a bound: the read model equals a fresh rebuild, no 2xx command is lost, every mail the
 * events call for arrived once and in event order, and the outbox is empty. Each test reports the api's error
 * rate and the catch-up time.
 *
 * The shop here has a PostgreSQL server, a broker, a mail server and event store tables of its own
 * (test/support/faults.ts): freezing its database touches no other test file.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { alive, assertHealthBack, opsUrl, psLine, timedGet, underFault, useFaultShop, type FaultOptions } from '../support/faults.ts';

const FREEZE_MS = 30_000;
/** From the end of the fault to "everything settled": generous, the machine is shared and loaded. */
const RECOVERY_BOUND_MS = 90_000;

const shop = useFaultShop({ ownPostgres: true, projectors: 2 });

const fault = (t: TestContext, opts: Omit<FaultOptions, 'boundMs'>) => {
  const { f, actors } = shop();
  return underFault(t, f, actors, { ...opts, boundMs: RECOVERY_BOUND_MS });
};

test('the whole PostgreSQL server frozen for 30 s (SIGSTOP): health names it at once, commands go on; afterwards nothing lost, nothing twice, nothing stuck', async (t) => {
  const { f, actors } = shop();
  const { customers } = actors;
  const postgres = f.postgres!;
  let frozen: number[] = [];
  const reads = { ok: 0, failed: 0, slowest: 0 };
  const { healedAt } = await fault(t, {
    seed: 6000,
    faultMs: FREEZE_MS,
    inject: () => {
      frozen = postgres.freeze();
      assert.ok(frozen.length >= 5, `the postmaster and its backends: ${psLine(frozen)}`);
    },
    heal: () => postgres.thaw(),
    during: async (faultAt) => {
      // Reads need the read model: they wait or fail while it is frozen; counted, not asserted.
      const reading = (async () => {
        while (Date.now() < faultAt + FREEZE_MS - 3_000) {
          const started = Date.now();
          const res = await timedGet(`${f.shop.baseUrl}/orders`, { authorization: `Bearer ${customers[0]!.token}` }, 3_000).catch(
            () => undefined,
          );
          reads.slowest = Math.max(reads.slowest, Date.now() - started);
          if (res?.status === 200) reads.ok += 1;
          else reads.failed += 1;
          await sleep(500);
        }
      })();
      // The probes answer within 1 s of being asked, every 2 s: by now every process has noticed.
      await sleep(Math.max(0, faultAt + 4_000 - Date.now()));
      const api = await timedGet(`${f.shop.baseUrl}/readyz`);
      assert.ok(api.ms < 1_000, `api /readyz answered in ${api.ms} ms`);
      assert.equal(api.status, 503, `the api cannot serve queries: ${JSON.stringify(api.body)}`);
      assert.deepEqual(api.body.down, ['postgres'], 'and names PostgreSQL, nothing else');
      const seen = [`api ${api.ms} ms → ${api.status} (down: ${api.body.down.join(', ')})`];
      for (const kind of ['projector', 'notifier', 'worker']) {
        const r = await timedGet(`${opsUrl(f, kind)}/readyz`);
        assert.ok(r.ms < 1_000, `${kind} /readyz answered in ${r.ms} ms`);
        assert.equal(r.status, 503, `${kind}: ${JSON.stringify(r.body)}`);
        assert.ok(r.body.down.includes('postgres'), `${kind} names PostgreSQL: ${JSON.stringify(r.body.down)}`);
        seen.push(`${kind} ${r.ms} ms → ${r.status} (down: ${r.body.down.join(', ')})`);
      }
      // Kafka is fine: the lag report is fresh.
      const lag = await timedGet(`${f.shop.baseUrl}/ops/lag`, { authorization: `Bearer ${f.admin}` });
      assert.equal(lag.status, 200, JSON.stringify(lag.body));
      seen.push(`/ops/lag ${lag.ms} ms → ${lag.status} (stale: ${lag.body.stale}, total lag ${lag.body.total_lag})`);
      t.diagnostic(`PostgreSQL frozen (${frozen.length} processes): ${seen.join('; ')}`);
      await reading;
    },
  });
  t.diagnostic(
    `queries while frozen (GET /orders, 3 s client timeout): ${reads.ok} answered, ${reads.failed} not, slowest ${reads.slowest} ms`,
  );
  await assertHealthBack(t, f, healedAt);
});

test('a projector and the worker killed (kill -9) mid-stream and started again: nothing lost, nothing twice, nothing stuck', async (t) => {
  const { f } = shop();
  const victims: string[] = [];
  const { healedAt } = await fault(t, {
    seed: 7000,
    faultMs: 3_000,
    inject: async () => {
      for (const kind of ['projector', 'worker']) {
        const name = alive(f, kind)[0]!;
        const victim = f.shop.processes.find((p) => p.name === name)!;
        victim.child.kill('SIGKILL');
        assert.equal(await victim.exited, null, `${name} died of SIGKILL`);
        victims.push(name);
      }
    },
    heal: () => {
      f.shop.spawn('projector');
      f.shop.spawn('worker');
    },
  });
  t.diagnostic(`killed ${victims.join(' and ')}; started ${alive(f, 'projector').at(-1)} and ${alive(f, 'worker').at(-1)} 3 s later`);
  await assertHealthBack(t, f, healedAt);
});
