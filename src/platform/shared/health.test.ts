import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createHealth } from './health.ts';

describe('health', () => {
  it('answers from cached probes at once, naming what is down, and a hung probe counts as down after its timeout', async () => {
    let pgFrozen = false;
    let release: () => void = () => {};
    const health = createHealth([
      {
        name: 'postgres',
        intervalMs: 20,
        timeoutMs: 50,
        probe: () => (pgFrozen ? new Promise<void>((r) => (release = r)) : Promise.resolve()),
      },
      { name: 'kafka', required: false, intervalMs: 20, timeoutMs: 50, probe: async () => Promise.reject(new Error('ECONNREFUSED')) },
    ]);
    await health.refresh();
    let r = health.readiness();
    assert.equal(r.ready, true, 'kafka is not required');
    assert.deepEqual(r.checks, { postgres: true, kafka: false });
    assert.deepEqual(r.down, ['kafka']);
    assert.match(r.details.kafka?.error ?? '', /ECONNREFUSED/);

    health.start();
    pgFrozen = true;
    await sleep(150);
    const asked = Date.now();
    r = health.readiness();
    assert.ok(Date.now() - asked < 20, 'readiness never waits on a probe');
    assert.equal(r.ready, false);
    assert.deepEqual(r.down, ['postgres', 'kafka']);
    assert.match(r.details.postgres?.error ?? '', /no answer/);

    pgFrozen = false;
    release();
    await sleep(150);
    r = health.readiness();
    health.stop();
    assert.equal(r.ready, true, 'up again once the frozen probe answered and the next one succeeded');
    assert.equal(r.details.postgres?.ok, true);
  });

  it('a hung probe does not pile up probes: the next starts only once it settled or was abandoned', async () => {
    let started = 0;
    const health = createHealth([{ name: 'x', intervalMs: 5, timeoutMs: 20, probe: () => (started++, new Promise<void>(() => {})) }]);
    health.start();
    await sleep(200);
    health.stop();
    // abandoned after 5 × timeout = 100 ms: the first probe, then at most one or two more
    assert.ok(started >= 1 && started <= 3, `${started} probes started`);
  });

  it('state checks are read when asked, and a probe resolving a reason or false is down', async () => {
    let ok = true;
    const health = createHealth([
      { name: 'consumer', state: () => ({ ok, detail: { joined: ok } }) },
      { name: 'smtp', probe: async () => 'greeting timed out' },
      { name: 'db', probe: async () => false },
    ]);
    await health.refresh();
    let r = health.readiness();
    assert.deepEqual(r.checks, { smtp: false, db: false, consumer: true });
    assert.equal(r.details.smtp?.error, 'greeting timed out');
    ok = false;
    r = health.readiness();
    assert.equal(r.checks.consumer, false);
    assert.deepEqual(r.details.consumer?.detail, { joined: false });
  });
});
