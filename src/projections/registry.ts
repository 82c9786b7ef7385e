import * as carts from './carts.ts';
import * as catalog from './catalog.ts';
import * as inventory from './inventory.ts';
import * as orders from './orders.ts';
import * as shipments from './shipments.ts';
import type { StreamProjection } from './types.ts';
import * as users from './users.ts';

/** Every stream projection the projector runs. Add a module here and its event types are routed to it. */
export const STREAM_PROJECTIONS: readonly StreamProjection[] = [users, catalog, inventory, carts, orders, shipments];

/**
 * event_type → the projection that owns it. Two projections claiming one type is a wiring mistake (which one
 * runs first would matter), so it fails at start-up rather than producing a subtly wrong read model.
 */
export function routeByEventType(projections: readonly StreamProjection[]): ReadonlyMap<string, StreamProjection> {
  const routes = new Map<string, StreamProjection>();
  for (const projection of projections) {
    for (const type of projection.eventTypes) {
      const taken = routes.get(type);
      if (taken) throw new Error(`event type ${type} is claimed by both ${taken.name} and ${projection.name}`);
      routes.set(type, projection);
    }
  }
  return routes;
}
