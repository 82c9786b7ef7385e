import type { EventStore } from '../eventstore/types.ts';
import type { Executor } from './executor.ts';

/** What every application service needs: the event store, the command executor, a clock and an id source. */
export interface AppContext {
  store: EventStore;
  executor: Executor;
  clock: () => Date;
  newId: () => string;
  snapshotEvery: number;
}
