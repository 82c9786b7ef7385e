import { Hono } from 'hono';
import { cartDecider } from '../../contexts/carts/index.ts';
import { categoryDecider, categoryNameClaimDecider, productDecider } from '../../contexts/catalog/index.ts';
import { inventoryDecider } from '../../contexts/inventory/index.ts';
import { orderDecider } from '../../contexts/orders/index.ts';
import type { DomainEvent } from '../../platform/shared/decider.ts';
import type { AggregateType } from '../../platform/shared/envelope.ts';
import { notFound, validationError } from '../../platform/shared/errors.ts';
import { instantMs } from '../../platform/shared/validate.ts';
import { shipmentDecider } from '../../contexts/shipping/index.ts';
import { emailClaimDecider, userDecider } from '../../contexts/users/index.ts';
import { requireAdmin, requireUser, type AuthEnv, type Principal } from '../../platform/http/auth.ts';
import type { HttpDeps } from '../../kernel/deps.ts';
import { idParam, intQuery, strQuery } from '../../platform/http/params.ts';
import { mayRead } from '../../platform/http/stream-access.ts';
import { withoutSecrets } from '../../platform/shared/log.ts';

type Folder = { initialState: () => unknown; evolve: (state: never, event: never) => unknown };
const FOLDERS: Record<AggregateType, Folder> = {
  User: userDecider,
  EmailClaim: emailClaimDecider,
  Category: categoryDecider,
  CategoryNameClaim: categoryNameClaimDecider,
  Product: productDecider,
  Inventory: inventoryDecider,
  Cart: cartDecider,
  Order: orderDecider,
  Shipment: shipmentDecider,
};

/** Never hand out a password hash or any other secret, not even to admins or the owner (the store already drops legacy ones: defence in depth). */
const redact = withoutSecrets;

/**
 * The event log (003) and time travel (000, 001). A stream and its past states are read from the event store
 * itself, the source of truth; the global log comes from the read_event_log table (no hot key in DynamoDB).
 */
export function eventRoutes(deps: HttpDeps) {
  // Ownership first (cheap: the id's shape, or the stream's first event), then the whole stream.
  const readOwned = async (user: Principal, aggregateId: string) => {
    if (!(await mayRead(deps.store, user, aggregateId))) throw notFound('stream', aggregateId);
    const events = await deps.store.readStream(aggregateId);
    if (events.length === 0) throw notFound('stream', aggregateId);
    return events;
  };
  return new Hono<AuthEnv>()
    .get('/events', async (c) => {
      requireAdmin(c);
      const limit = intQuery(c, 'limit', { min: 1, max: 500 });
      const before = strQuery(c, 'before', 500);
      const eventType = strQuery(c, 'type', 100);
      const aggregateType = strQuery(c, 'aggregate_type', 100);
      return c.json(
        redact(
          await deps.queries.listEvents({
            ...(limit ? { limit } : {}),
            ...(before ? { before } : {}),
            ...(eventType ? { eventType } : {}),
            ...(aggregateType ? { aggregateType } : {}),
          }),
        ),
      );
    })
    .get('/events/:aggregate_id', async (c) => {
      const user = requireUser(c);
      const events = await readOwned(user, idParam(c, 'aggregate_id'));
      return c.json({
        aggregate_id: events[0]!.aggregate_id,
        aggregate_type: events[0]!.aggregate_type,
        version: events.at(-1)!.version,
        events: redact(events),
      });
    })
    .get('/events/:aggregate_id/state', async (c) => {
      const user = requireUser(c);
      const events = await readOwned(user, idParam(c, 'aggregate_id'));
      const atRaw = c.req.query('at');
      const versionParam = intQuery(c, 'version', { min: 1 });
      let cutoff = Number.POSITIVE_INFINITY;
      if (atRaw !== undefined) {
        cutoff = instantMs(atRaw);
        if (Number.isNaN(cutoff))
          throw validationError('invalid at: must be an ISO-8601 date-time, e.g. 2026-01-31T12:00:00Z', [
            { field: 'at', message: 'must be an ISO-8601 date-time' },
          ]);
      }
      const applied = events.filter((e) => Date.parse(e.created_at) <= cutoff && (versionParam === undefined || e.version <= versionParam));
      const type = events[0]!.aggregate_type;
      const folder = FOLDERS[type] as Folder | undefined;
      if (!folder) throw validationError(`time travel is not available for ${type} streams`);
      const state = applied.reduce<unknown>(
        (s, e) => folder.evolve(s as never, { type: e.event_type, data: e.data } as DomainEvent as never),
        folder.initialState(),
      );
      return c.json({
        aggregate_id: events[0]!.aggregate_id,
        aggregate_type: type,
        at: atRaw ?? null,
        version: applied.at(-1)?.version ?? 0,
        exists: applied.length > 0,
        state: redact(state),
      });
    });
}
