import { carts } from '../../contexts/carts/projection.ts';
import { categories, products } from '../../contexts/catalog/projection.ts';
import { inventory } from '../../contexts/inventory/projection.ts';
import { orders } from '../../contexts/orders/projection.ts';
import { shipments } from '../../contexts/shipping/projection.ts';
import type { TableProjection } from '../../kernel/projection.ts';
import { anyRow } from '../../kernel/projection.ts';
import { users } from '../../contexts/users/projection.ts';

/** Every table projection the projector runs. Add one here and its event types are routed to it. */
export const STREAM_PROJECTIONS: readonly TableProjection[] = [
  anyRow(users),
  anyRow(categories),
  anyRow(products),
  anyRow(inventory),
  anyRow(carts),
  anyRow(orders),
  anyRow(shipments),
];

/**
 * event_type → the projection that owns it. Two projections claiming one type is a wiring mistake (which one
 * runs first would matter), so it fails at start-up rather than producing a subtly wrong read model.
 */
export function routeByEventType<P extends { name: string; eventTypes: readonly string[] }>(
  projections: readonly P[],
): ReadonlyMap<string, P> {
  const routes = new Map<string, P>();
  for (const projection of projections) {
    for (const type of projection.eventTypes) {
      const taken = routes.get(type);
      if (taken) throw new Error(`event type ${type} is claimed by both ${taken.name} and ${projection.name}`);
      routes.set(type, projection);
    }
  }
  return routes;
}
