/**
 * The commit/retry/DLQ rules of one batch, against a fake kafkajs payload that records what was resolved and
 * committed when. The same rules run against a real broker in test/integration/messaging.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KafkaMessage } from 'kafkajs';
import type { EventEnvelope } from '../shared/envelope.ts';
import type { BatchHandler, BatchPayload } from './batch.ts';
import { createBatchProcessor, emptyStats } from './batch.ts';
import { encodeEnvelope } from './codec.ts';
import { silentLogger } from './log.ts';

const event = (n: number): EventEnvelope => ({
  event_id: `e-${n}`,
  aggregate_id: `a-${n % 3}`,
  aggregate_type: 'Order',
  event_type: 'OrderPlaced',
  version: n + 1,
  data: { n },
  metadata: {},
  created_at: '2024-10-18T12:30:00.000Z',
  schema_version: 1,
});

const message = (offset: number, value: string): KafkaMessage =>
  ({ key: null, value: Buffer.from(value), offset: String(offset), timestamp: '0', attributes: 0, headers: {} }) as KafkaMessage;

/** Offsets start at 100 so an off-by-one between offset and index shows. */
const batchOf = (values: string[]) => values.map((v, i) => message(100 + i, v));
const good = (n: number) => encodeEnvelope(event(n)).value;

interface Harness {
  payload: BatchPayload;
  /** Everything that happened, in order: handler calls, resolves, commits, heartbeats, dead letters. */
  journal: string[];
  running: { value: boolean };
}

function harness(messages: KafkaMessage[], opts: { heartbeat?: () => Promise<void> } = {}): Harness {
  const journal: string[] = [];
  const running = { value: true };
  let resolved: string | undefined;
  let committed: string | undefined;
  const last = messages.at(-1)?.offset ?? '-1';
  const payload: BatchPayload = {
    batch: { topic: 'ec-events', partition: 2, messages, lastOffset: () => last },
    resolveOffset: (offset) => {
      assert.ok(resolved === undefined || BigInt(offset) >= BigInt(resolved), `resolve went backwards: ${resolved} → ${offset}`);
      resolved = offset;
      journal.push(`resolve ${offset}`);
    },
    heartbeat: async () => {
      journal.push('heartbeat');
      await opts.heartbeat?.();
    },
    uncommittedOffsets: () =>
      resolved === undefined || resolved === committed
        ? { topics: [] }
        : { topics: [{ topic: 'ec-events', partitions: [{ partition: 2, offset: String(BigInt(resolved) + 1n) }] }] },
    commitOffsetsIfNecessary: async (offsets) => {
      const partitions = offsets?.topics?.flatMap((t) => t.partitions) ?? [];
      for (const p of partitions) journal.push(`commit ${p.offset}`);
      committed = resolved;
    },
    isRunning: () => running.value,
    isStale: () => false,
  };
  return { payload, journal, running };
}

function processor(
  handleBatch: BatchHandler,
  over: { maxRetries?: number; signal?: AbortSignal; isTransient?: (e: unknown) => boolean; deadLetterFails?: boolean } = {},
) {
  const stats = emptyStats();
  const dead: { offset: string; error: string }[] = [];
  let journal: string[] = [];
  const run = createBatchProcessor({
    groupId: 'g',
    handleBatch,
    maxRetries: over.maxRetries ?? 2,
    backoff: () => 1,
    isTransient: over.isTransient ?? (() => false),
    deadLetter: async (msg, partition, error) => {
      assert.equal(partition, 2);
      if (over.deadLetterFails) throw new Error('DLQ unavailable');
      dead.push({ offset: msg.offset, error: String(error) });
      journal.push(`dlq ${msg.offset}`);
    },
    heartbeatSliceMs: 1,
    signal: over.signal ?? new AbortController().signal,
    stats,
    log: silentLogger(),
  });
  return {
    stats,
    dead,
    process: (h: Harness) => {
      journal = h.journal;
      return run(h.payload);
    },
  };
}

/** A handler that records every successful call and fails for the listed event numbers. */
function recordingHandler(failFor: Set<number> = new Set(), errorFor: (n: number) => Error = (n) => new Error(`bad event ${n}`)) {
  const applied: number[] = [];
  const calls: number[][] = [];
  const handle: BatchHandler = async (events) => {
    const ns = events.map((e) => (e.data as { n: number }).n);
    calls.push(ns);
    const bad = ns.find((n) => failFor.has(n));
    if (bad !== undefined) throw errorFor(bad);
    applied.push(...ns);
  };
  return { handle, applied, calls };
}

describe('batch processor', () => {
  it('hands the decoded batch over in offset order, then resolves and commits after the effect', async () => {
    const h = harness(batchOf([good(0), good(1), good(2)]));
    const handler = recordingHandler();
    const p = processor(async (events, ctx) => {
      h.journal.push(`handle ${events.length}`);
      assert.equal(ctx.partition, 2);
      await handler.handle(events, ctx);
    });
    await p.process(h);
    assert.deepEqual(handler.applied, [0, 1, 2]);
    assert.deepEqual(h.journal, ['handle 3', 'resolve 102', 'commit 103']);
    assert.deepEqual(p.stats, { batches: 1, processed: 3, failed: 0, retries: 0, dlq: 0, poison: 0 });
  });

  it('dead-letters undecodable records before the handler runs and never shows them to it', async () => {
    const h = harness(batchOf([good(0), 'garbage', good(2)]));
    const handler = recordingHandler();
    const p = processor(handler.handle);
    await p.process(h);
    assert.deepEqual(handler.calls, [[0, 2]]);
    assert.equal(p.dead.length, 1);
    assert.equal(p.dead[0]?.offset, '101');
    assert.match(p.dead[0]?.error ?? '', /PoisonMessageError|not JSON/);
    assert.deepEqual(h.journal, ['dlq 101', 'resolve 102', 'commit 103']);
    assert.equal(p.stats.poison, 1);
    assert.equal(p.stats.dlq, 1);
  });

  it('commits a batch of nothing but poison', async () => {
    const h = harness(batchOf(['x', 'y']));
    const handler = recordingHandler();
    const p = processor(handler.handle);
    await p.process(h);
    assert.deepEqual(handler.calls, []);
    assert.deepEqual(h.journal, ['dlq 100', 'dlq 101', 'resolve 101', 'commit 102']);
  });

  it('retries a failing batch with heartbeats and resolves only once it succeeded', async () => {
    const h = harness(batchOf([good(0), good(1)]));
    let failures = 2;
    const p = processor(async (events) => {
      h.journal.push('handle');
      if (failures-- > 0) throw new Error('flaky');
      assert.equal(events.length, 2);
    });
    await p.process(h);
    const firstResolve = h.journal.indexOf('resolve 101');
    assert.equal(h.journal.filter((j) => j === 'handle').length, 3);
    assert.equal(h.journal.lastIndexOf('handle') < firstResolve, true, h.journal.join(', '));
    assert.ok(h.journal.slice(0, firstResolve).includes('heartbeat'), 'no heartbeat between retries');
    assert.deepEqual(p.stats, { batches: 1, processed: 2, failed: 2, retries: 2, dlq: 0, poison: 0 });
    assert.deepEqual(p.dead, []);
  });

  it('isolates the one event that keeps failing: only it goes to the DLQ, its neighbours succeed once, in order', async () => {
    const h = harness(batchOf([0, 1, 2, 3, 4, 5, 6, 7].map(good)));
    const handler = recordingHandler(new Set([5]));
    const p = processor(handler.handle);
    await p.process(h);
    assert.deepEqual(handler.applied, [0, 1, 2, 3, 4, 6, 7]);
    assert.deepEqual(
      p.dead.map((d) => d.offset),
      ['105'],
    );
    assert.match(p.dead[0]?.error ?? '', /bad event 5/);
    assert.equal(h.journal.at(-1), 'commit 108');
    assert.equal(p.stats.processed, 7);
    assert.equal(p.stats.dlq, 1);
    // Bisecting, not one call per event: 3 whole-batch attempts + a handful of halves.
    assert.ok(handler.calls.length <= 3 + 2 * Math.log2(8) + 1, `${handler.calls.length} handler calls`);
  });

  it('isolates several bad events in one batch', async () => {
    const h = harness(batchOf([0, 1, 2, 3, 4].map(good)));
    const handler = recordingHandler(new Set([0, 3]));
    const p = processor(handler.handle);
    await p.process(h);
    assert.deepEqual(handler.applied, [1, 2, 4]);
    assert.deepEqual(
      p.dead.map((d) => d.offset),
      ['100', '103'],
    );
  });

  it('never dead-letters transient failures (an outage): it waits them out beyond maxRetries', async () => {
    const h = harness(batchOf([good(0), good(1)]));
    let failures = 7;
    const outage = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const p = processor(
      async () => {
        if (failures-- > 0) throw outage;
      },
      { maxRetries: 1, isTransient: (e) => e === outage },
    );
    await p.process(h);
    assert.deepEqual(p.dead, []);
    assert.equal(p.stats.retries, 7);
    assert.equal(h.journal.at(-1), 'commit 102');
  });

  it('on shutdown mid-retry abandons the batch: no DLQ, nothing resolved, so the next owner retries it', async () => {
    const h = harness(batchOf([good(0), good(1)]));
    const ac = new AbortController();
    const p = processor(
      async () => {
        ac.abort();
        throw new Error('still failing');
      },
      { signal: ac.signal, maxRetries: 100 },
    );
    await p.process(h);
    assert.deepEqual(p.dead, []);
    assert.equal(
      h.journal.some((j) => j.startsWith('resolve')),
      false,
      h.journal.join(', '),
    );
  });

  it('lets a lost group membership escape instead of retrying a partition that may be someone else’s', async () => {
    const rebalance = new Error('The group is rebalancing, so a rejoin is needed');
    const h = harness(batchOf([good(0)]), { heartbeat: async () => Promise.reject(rebalance) });
    let calls = 0;
    const p = processor(async (_events, ctx) => {
      calls++;
      await ctx.heartbeat();
    });
    await assert.rejects(p.process(h), (err) => err === rebalance);
    assert.equal(calls, 1);
    assert.equal(p.stats.failed, 0);
    assert.equal(
      h.journal.some((j) => j.startsWith('resolve') || j.startsWith('commit')),
      false,
    );
  });

  it('fails the batch without resolving when the DLQ cannot take the record (redelivery, not loss)', async () => {
    const h = harness(batchOf([good(0), 'garbage']));
    const handler = recordingHandler();
    const p = processor(handler.handle, { deadLetterFails: true });
    await assert.rejects(p.process(h), /DLQ unavailable/);
    assert.equal(
      h.journal.some((j) => j.startsWith('resolve') || j.startsWith('commit')),
      false,
    );
  });
});
