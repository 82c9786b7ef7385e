import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EventEnvelope } from '../shared/envelope.ts';
import { assignLanes, toBatches } from './rebuild.ts';
import { stream } from './testing.ts';

const streamOf = (id: string, n: number): EventEnvelope[] => {
  const s = stream('Order', id);
  for (let i = 0; i < n; i++) s.next('E', {});
  return [...s.events].reverse(); // as a scan might return them
};

test('assignLanes keeps each stream whole and in version order, balancing lanes by event count', () => {
  const streams = new Map([
    ['a', streamOf('a', 6)],
    ['b', streamOf('b', 3)],
    ['c', streamOf('c', 3)],
    ['d', streamOf('d', 1)],
  ]);
  const lanes = assignLanes(streams, 2);
  assert.equal(lanes.length, 2);
  const loads = lanes.map((l) => l.flat().length).sort();
  assert.deepEqual(loads, [6, 7]);
  for (const lane of lanes) for (const s of lane) assert.deepEqual(s.map((e) => e.version), s.map((_, i) => i + 1));
  assert.deepEqual(lanes.flat().map((s) => s[0]!.aggregate_id).sort(), ['a', 'b', 'c', 'd']);
  assert.equal(assignLanes(new Map([['a', streamOf('a', 1)]]), 4).length, 1, 'no empty lanes');
});

test('toBatches packs streams into batches of at most size events, continuing long streams in order', () => {
  const batches = toBatches([streamOf('a', 5).reverse(), streamOf('b', 2).reverse()], 3);
  assert.deepEqual(batches.map((b) => b.map((e) => `${e.aggregate_id}${e.version}`)), [['a1', 'a2', 'a3'], ['a4', 'a5', 'b1'], ['b2']]);
});
