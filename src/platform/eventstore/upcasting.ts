import type { EventEnvelope } from '../shared/envelope.ts';
import type { EventStore } from './types.ts';

/**
 * The event store's hooks for the event contracts (src/contracts), which the store itself never imports:
 * - read path: every event read from the store — a stream, a scan, the outbox the sweeper republishes — comes
 *   out in its current shape (upcast by `upcast`), so deciders, gap repair, rebuilds and every consumer see the
 *   same data for the same event, whichever way it reached them. The stored history is never rewritten.
 * - write path (with `currentVersion`): an event appended without a schema_version is stamped with its
 *   contract's current version — the shape the deciders emit — instead of 1, so a later upcaster never runs
 *   over data that already has the new shape.
 */
export function withUpcasting<S extends EventStore>(
  store: S,
  upcast: (event: EventEnvelope) => EventEnvelope,
  currentVersion?: (eventType: string) => number,
): S {
  return {
    ...store,
    ...(currentVersion
      ? {
          append: (writes, opts) =>
            store.append(
              writes.map((w) => ({
                ...w,
                events: w.events.map((e) => (e.schema_version === undefined ? { ...e, schema_version: currentVersion(e.event_type) } : e)),
              })),
              opts,
            ),
        }
      : {}),
    readStream: async (aggregateId, opts) => (await store.readStream(aggregateId, opts)).map(upcast),
    scanAll: (onPage, opts) => store.scanAll((page) => onPage(page.map(upcast)), opts),
    findUnpublished: async (createdBefore, limit) => (await store.findUnpublished(createdBefore, limit)).map(upcast),
  };
}
