import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createManagedClient, isRecordRejection, recordRejectionOf } from './managed.ts';
import { silentLogger } from './log.ts';

/** A client that counts its connects and disconnects; `fail` decides what its work throws. */
function fakeClients(connectFails = () => false) {
  const made: Array<{ id: number; connects: number; disconnects: number }> = [];
  const make = () => {
    const c = { id: made.length + 1, connects: 0, disconnects: 0 };
    made.push(c);
    return {
      c,
      async connect() {
        c.connects += 1;
        if (connectFails()) throw new Error('Connection timeout');
      },
      async disconnect() {
        c.disconnects += 1;
      },
    };
  };
  return { made, make };
}

const tooLarge = Object.assign(new Error('retries exceeded'), {
  cause: Object.assign(new Error('message too large'), { type: 'MESSAGE_TOO_LARGE' }),
});

describe('managed kafka client', () => {
  it('keeps one connected client while work succeeds', async () => {
    const { made, make } = fakeClients();
    const m = createManagedClient({ make, name: 'producer', log: silentLogger() });
    for (let i = 0; i < 3; i++) assert.equal(await m.use(async (client) => client.c.id), 1);
    assert.deepEqual(made, [{ id: 1, connects: 1, disconnects: 0 }]);
    assert.equal(m.replacements(), 0);
  });

  it('replaces a client after any failure other than the broker refusing the records, and retires the old one', async () => {
    const { made, make } = fakeClients();
    const m = createManagedClient({ make, name: 'producer', log: silentLogger(), keepOn: isRecordRejection });
    await assert.rejects(m.use(async () => Promise.reject(new Error('Broker not connected'))));
    assert.equal(await m.use(async (client) => client.c.id), 2, 'a fresh client for the next use');
    await assert.rejects(m.use(async () => Promise.reject(tooLarge)));
    assert.equal(await m.use(async (client) => client.c.id), 2, 'a refused record says nothing about the client');
    await new Promise((r) => setImmediate(r));
    assert.equal(made[0]!.disconnects, 1, 'the wedged client was disconnected');
    assert.equal(m.replacements(), 1);
  });

  it('a failed connect is a broken client too: the next use connects a fresh one', async () => {
    let fail = true;
    const { made, make } = fakeClients(() => fail);
    const m = createManagedClient({ make, name: 'admin', log: silentLogger() });
    await assert.rejects(
      m.use(async () => 1),
      /Connection timeout/,
    );
    fail = false;
    assert.equal(await m.use(async (client) => client.c.id), 2);
    assert.equal(made.length, 2);
  });

  it('replace() retires the client on demand; disconnect() closes for good', async () => {
    const { make } = fakeClients();
    const m = createManagedClient({ make, name: 'producer', log: silentLogger() });
    await m.use(async () => 1);
    m.replace('probe');
    assert.equal(await m.use(async (client) => client.c.id), 2);
    await m.disconnect();
    await assert.rejects(
      m.use(async () => 1),
      /disconnected/,
    );
  });

  it('does not wait on a retired client whose disconnect hangs', async () => {
    const m = createManagedClient({
      make: () => ({ connect: async () => {}, disconnect: () => new Promise<void>(() => {}) }),
      name: 'producer',
      log: silentLogger(),
      retireTimeoutMs: 10,
    });
    await assert.rejects(m.use(async () => Promise.reject(new Error('x'))));
    const started = Date.now();
    await m.use(async () => 1);
    assert.ok(Date.now() - started < 50);
  });

  it('finds the broker’s refusal inside kafkajs’ retry errors', () => {
    assert.equal(recordRejectionOf(tooLarge)?.type, 'MESSAGE_TOO_LARGE');
    assert.equal(isRecordRejection(new Error('Request Produce(key: 0, version: 7) timed out')), false);
    assert.equal(isRecordRejection(Object.assign(new Error('x'), { type: 'NOT_LEADER_FOR_PARTITION' })), false);
  });
});
