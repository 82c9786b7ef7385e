import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadAggregate, retryOnConflict } from './aggregate.ts';
import { createMemoryEventStore } from './memory.ts';
import type { EventStore } from './types.ts';
import { ConcurrencyError } from './types.ts';

const evolve = (s: number[], e: { type: string; data: { n: number } }) => [...s, e.data.n];
const opts = { metadata: {}, now: '2030-01-01T00:00:00.000Z' };

describe('retryOnConflict', () => {
  it('backs off exponentially with full jitter, capped', async () => {
    const delays: number[] = [];
    await assert.rejects(
      retryOnConflict(
        async () => {
          throw new ConcurrencyError(['s']);
        },
        { attempts: 6, baseDelayMs: 10, maxDelayMs: 100, random: () => 0.999, sleep: async (ms) => void delays.push(ms) },
      ),
      ConcurrencyError,
    );
    assert.deepEqual(delays, [9, 19, 39, 79, 99]);
    const zero: number[] = [];
    await assert.rejects(
      retryOnConflict(async () => Promise.reject(new ConcurrencyError([])), {
        attempts: 3,
        random: () => 0,
        sleep: async (ms) => void zero.push(ms),
      }),
    );
    assert.deepEqual(zero, [0, 0]);
  });

  it('does not retry other errors and passes the attempt number', async () => {
    const seen: number[] = [];
    await assert.rejects(
      retryOnConflict(
        async (attempt) => {
          seen.push(attempt);
          if (attempt === 1) throw new ConcurrencyError(['s']);
          throw new Error('boom');
        },
        { sleep: async () => {} },
      ),
      /boom/,
    );
    assert.deepEqual(seen, [1, 2]);
  });
});

describe('loadAggregate', () => {
  it('reports a failed snapshot write and still answers', async () => {
    const store = createMemoryEventStore();
    await store.append(
      [
        {
          aggregate_id: 's',
          aggregate_type: 'Inventory',
          expected_version: 0,
          events: Array.from({ length: 3 }, (_, i) => ({ event_type: 'N', data: { n: i } })),
        },
      ],
      opts,
    );
    const failing: EventStore = { ...store, saveSnapshot: async () => Promise.reject(new Error('throttled')) };
    const errors: unknown[] = [];
    const loaded = await loadAggregate(failing, 's', {
      initialState: (): number[] => [],
      evolve,
      snapshot: { schemaVersion: 1, every: 2, toSnapshot: (s) => s, fromSnapshot: (d) => d as number[] },
      onSnapshotError: (err) => errors.push(err),
    });
    assert.deepEqual(loaded.state, [0, 1, 2]);
    await loaded.snapshotWrite;
    assert.match(String(errors[0]), /throttled/);
  });

  it('refuses to fold a stream with a hole in it', async () => {
    const store = createMemoryEventStore();
    const holed: EventStore = {
      ...store,
      readStream: async () =>
        [1, 3].map((version) => ({
          event_id: `e${version}`,
          aggregate_id: 's',
          aggregate_type: 'Cart',
          event_type: 'N',
          version,
          data: { n: version },
          metadata: {},
          created_at: opts.now,
          schema_version: 1,
        })),
    };
    await assert.rejects(loadAggregate(holed, 's', { initialState: (): number[] => [], evolve }), /jumps from version 1 to 3/);
  });
});
