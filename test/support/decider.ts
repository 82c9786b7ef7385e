/**
 * given/when/then for deciders (emmett's style):
 *
 *   spec(inventoryDecider).given([stockAdded]).when(reserve).then([stockReserved]);
 *   spec(inventoryDecider).given([]).when(reserve).thenThrows('insufficient_stock');
 *
 * Besides comparing events, every `when` also checks what a decider must never do and a plain assertion would
 * miss: mutate the state it was given, produce events that do not survive a JSON round trip (they are stored
 * and published as JSON: no Date, undefined, NaN, Map), or produce events its own `evolve` cannot fold.
 * Test-only (test/support): it imports node:assert, which code under src/ never does outside its tests.
 */
import assert from 'node:assert/strict';
import type { Decider, DomainEvent } from '../../src/platform/shared/decider.ts';
import { fold } from '../../src/platform/shared/decider.ts';
import { AppError } from '../../src/platform/shared/errors.ts';

export type ErrorExpectation =
  | string // the AppError code, e.g. 'insufficient_stock'
  | ((err: AppError) => boolean)
  | { kind?: AppError['kind']; code?: string; message?: string | RegExp; extra?: Record<string, unknown> };

export interface Then<Event> {
  /** The command yields exactly these events (order matters). `then([])`: accepted, nothing to record. */
  then: (expected: Event[]) => Event[];
  /** The command is refused with an AppError matching the expectation; returns it for further asserts. */
  thenThrows: (expected: ErrorExpectation) => AppError;
}

export interface Given<Command, Event> {
  when: (command: Command) => Then<Event>;
}

export const spec = <Command, State, Event extends DomainEvent>(decider: Decider<Command, State, Event>) => ({
  given: (history: readonly Event[]): Given<Command, Event> => ({
    when: (command: Command): Then<Event> => {
      const run = (): Event[] => {
        const state = fold(decider, decider.initialState(), history);
        const before = structuredClone(state);
        const events = decider.decide(command, state);
        assert.deepStrictEqual(state, before, 'decide must not mutate the state it is given');
        return events;
      };
      return {
        then: (expected) => {
          if (typeof expected === 'function') {
            // The object has a `then`, so `await`ing or returning it from an async test would call this with
            // resolve/reject: say so instead of failing with a baffling diff.
            throw new TypeError('spec(...).when(...) is not a promise: call .then([...events]) directly, do not await it');
          }
          const actual = run();
          assert.deepStrictEqual(actual, expected);
          assert.deepStrictEqual(JSON.parse(JSON.stringify(actual)), actual, 'events must be JSON-safe');
          fold(decider, fold(decider, decider.initialState(), history), actual); // evolve must accept them
          return actual;
        },
        thenThrows: (expected) => {
          let events: Event[];
          try {
            events = run();
          } catch (err) {
            // Anything but an AppError (a TypeError, a failed purity check) is a defect, not a refusal.
            if (!(err instanceof AppError)) throw err;
            assertMatches(err, expected);
            return err;
          }
          return assert.fail(`expected the command to be refused, but it produced ${JSON.stringify(events)}`);
        },
      };
    },
  }),
});

export const assertMatches = (err: AppError, expected: ErrorExpectation): void => {
  if (typeof expected === 'string') {
    assert.equal(err.code, expected, `expected error code ${expected}, got ${err.code}: ${err.message}`);
  } else if (typeof expected === 'function') {
    assert.ok(expected(err), `error did not match the predicate: ${err.kind}/${err.code}: ${err.message}`);
  } else {
    if (expected.kind !== undefined) assert.equal(err.kind, expected.kind, err.message);
    if (expected.code !== undefined) assert.equal(err.code, expected.code, err.message);
    if (typeof expected.message === 'string') assert.equal(err.message, expected.message);
    else if (expected.message) assert.match(err.message, expected.message);
    if (expected.extra !== undefined) assert.deepStrictEqual(err.extra, expected.extra);
  }
};

/** Runs `fn` and returns the AppError it throws (fails if it returns or throws something else). */
export const catchAppError = (fn: () => unknown, expected?: ErrorExpectation): AppError => {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    if (expected !== undefined) assertMatches(err, expected);
    return err;
  }
  return assert.fail('expected an AppError to be thrown');
};
