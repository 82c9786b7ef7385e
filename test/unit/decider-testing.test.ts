import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Decider, DomainEvent } from '../../src/platform/shared/decider.ts';
import { conflict } from '../../src/platform/shared/errors.ts';
import { catchAppError, spec } from '../support/decider.ts';

// A toy decider whose commands can misbehave on purpose, to prove the helper catches each misbehaviour.
type Ev = DomainEvent<'Added', { n: number; at?: unknown }>;
type Cmd = { type: 'Add'; n: number } | { type: 'Mutate' } | { type: 'Undefined' } | { type: 'Date' } | { type: 'Crash' };
type St = { total: number; log: number[] };
const toy: Decider<Cmd, St, Ev> = {
  initialState: () => ({ total: 0, log: [] }),
  decide: (c, s) => {
    switch (c.type) {
      case 'Add':
        if (s.total + c.n > 10) throw conflict('too_much', `total would be ${s.total + c.n}`, { max: 10 });
        return [{ type: 'Added', data: { n: c.n } }];
      case 'Mutate':
        s.log.push(1);
        return [];
      case 'Undefined':
        return [{ type: 'Added', data: { n: 1, at: undefined } }];
      case 'Date':
        return [{ type: 'Added', data: { n: 1, at: new Date(0) } }];
      case 'Crash':
        throw new TypeError('bug');
    }
  },
  evolve: (s, e) => ({ total: s.total + e.data.n, log: [...s.log, e.data.n] }),
};
const added = (n: number): Ev => ({ type: 'Added', data: { n } });

describe('spec (given/when/then)', () => {
  it('passes when the events match and returns them', () => {
    assert.deepEqual(
      spec(toy)
        .given([added(3)])
        .when({ type: 'Add', n: 2 })
        .then([added(2)]),
      [added(2)],
    );
  });

  it('fails on different events', () => {
    assert.throws(
      () =>
        spec(toy)
          .given([])
          .when({ type: 'Add', n: 2 })
          .then([added(3)]),
      assert.AssertionError,
    );
    assert.throws(() => spec(toy).given([]).when({ type: 'Add', n: 2 }).then([]), assert.AssertionError);
  });

  it('fails when the state given is mutated by decide', () => {
    assert.throws(
      () =>
        spec(toy)
          .given([added(1)])
          .when({ type: 'Mutate' })
          .then([]),
      /must not mutate/,
    );
  });

  it('fails on events that do not survive JSON', () => {
    assert.throws(
      () =>
        spec(toy)
          .given([])
          .when({ type: 'Undefined' })
          .then([{ type: 'Added', data: { n: 1, at: undefined } }]),
      /JSON-safe/,
    );
    assert.throws(
      () =>
        spec(toy)
          .given([])
          .when({ type: 'Date' })
          .then([{ type: 'Added', data: { n: 1, at: new Date(0) } }]),
      /JSON-safe/,
    );
  });

  it('passes thenThrows on a matching AppError by code, predicate or shape, and returns it', () => {
    const when = () =>
      spec(toy)
        .given([added(9)])
        .when({ type: 'Add', n: 2 });
    assert.equal(when().thenThrows('too_much').code, 'too_much');
    when().thenThrows((e) => e.extra?.max === 10);
    when().thenThrows({ kind: 'conflict', code: 'too_much', message: 'total would be 11', extra: { max: 10 } });
    when().thenThrows({ message: /would be 11/ });
  });

  it('fails thenThrows on a mismatch, on success, and on a non-AppError', () => {
    const when = () =>
      spec(toy)
        .given([added(9)])
        .when({ type: 'Add', n: 2 });
    assert.throws(() => when().thenThrows('other'), assert.AssertionError);
    assert.throws(() => when().thenThrows({ kind: 'not_found' }), assert.AssertionError);
    assert.throws(() => when().thenThrows({ message: 'total would be 12' }), assert.AssertionError);
    assert.throws(() => when().thenThrows(() => false), assert.AssertionError);
    assert.throws(() => spec(toy).given([]).when({ type: 'Add', n: 1 }).thenThrows('too_much'), /expected the command to be refused/);
    assert.throws(() => spec(toy).given([]).when({ type: 'Crash' }).thenThrows('too_much'), TypeError);
  });

  it('refuses to be awaited as a promise', async () => {
    await assert.rejects(async () => {
      await (spec(toy).given([]).when({ type: 'Add', n: 1 }) as unknown as Promise<void>);
    }, /not a promise/);
  });

  it('catchAppError returns the error or fails', () => {
    assert.equal(catchAppError(() => toy.decide({ type: 'Add', n: 11 }, toy.initialState()), 'too_much').code, 'too_much');
    assert.throws(() => catchAppError(() => 1), assert.AssertionError);
    assert.throws(() => catchAppError(() => toy.decide({ type: 'Crash' }, toy.initialState())), TypeError);
  });
});
