import type { Credential, StreamWrite } from '../platform/eventstore/types.ts';
import type { Streams } from './streams.ts';

/**
 * What a command handler decided (emmett's `handle(store, id, state => decide(command, state))`, over several
 * streams): the writes to append atomically — each conditioned on the version it was decided from; a write with
 * no events is a guard — and the typed result the caller gets once they are durable. No HTTP here: the route
 * picks the status.
 */
export interface Decision<R> {
  writes: StreamWrite[];
  /** A new account's password hash, appended in the same transaction but never as an event (DESIGN §3). */
  credential?: Credential;
  result: R;
}

/**
 * A command handler: loads what it needs through `streams`, calls the pure deciders, returns the decision. It
 * must not write: the executor may call it again (on a lost optimistic lock, or once it holds the streams'
 * in-process queue) with a fresh `streams`, so ids it needs are in the command, drawn once by the caller.
 */
export type CommandHandler<C, R> = (streams: Streams, command: C) => Promise<Decision<R>>;
