import type { EventEnvelope } from '../shared/envelope.ts';
import type { EventStore } from './types.ts';

/**
 * The read-path hook of the event contracts: every event read from the store comes out in its current shape
 * (upcast by `upcast`, src/contracts), so deciders, gap repair and rebuilds never see an old schema_version.
 * Writes pass through untouched, and the sweeper republishes events as stored (consumers upcast on decode): the
 * stored history is never rewritten.
 */
export function withUpcasting<S extends EventStore>(store: S, upcast: (event: EventEnvelope) => EventEnvelope): S {
  return {
    ...store,
    readStream: async (aggregateId, opts) => (await store.readStream(aggregateId, opts)).map(upcast),
    scanAll: (onPage, opts) => store.scanAll((page) => onPage(page.map(upcast)), opts),
  };
}
