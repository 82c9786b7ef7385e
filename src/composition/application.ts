import type { EventStore } from '../platform/eventstore/types.ts';
import type { Logger } from '../platform/shared/log.ts';
import { createCartHandlers } from '../contexts/carts/handlers.ts';
import { createCatalogHandlers } from '../contexts/catalog/handlers.ts';
import type { AppContext } from '../kernel/context.ts';
import { createExecutor, type Publisher } from '../kernel/executor.ts';
import { createFulfilmentHandlers } from '../contexts/shipping/handlers.ts';
import { createInventoryHandlers } from '../contexts/inventory/handlers.ts';
import { createOrderHandlers } from '../contexts/orders/handlers.ts';
import type { PasswordHasher } from '../contexts/users/password.ts';
import { createUserHandlers } from '../contexts/users/handlers.ts';

export interface ApplicationDeps {
  store: EventStore;
  publisher: Publisher;
  clock: () => Date;
  newId: () => string;
  log: Logger;
  snapshotEvery: number;
  reservationTtlSeconds: number;
  passwords?: PasswordHasher;
}

/**
 * The write side, built once for every process that runs commands (the api, the worker, tests and the bench):
 * the executor and every context's command handlers over one event store.
 */
export function createApplication(deps: ApplicationDeps) {
  const executor = createExecutor({
    store: deps.store,
    publisher: deps.publisher,
    clock: deps.clock,
    log: deps.log,
    snapshotEvery: deps.snapshotEvery,
  });
  const ctx: AppContext = { clock: deps.clock, newId: deps.newId };
  return {
    executor,
    newId: deps.newId,
    users: createUserHandlers(ctx, {
      store: deps.store,
      streams: executor.streams,
      ...(deps.passwords ? { passwords: deps.passwords } : {}),
    }),
    catalog: createCatalogHandlers(ctx),
    inventory: createInventoryHandlers(ctx),
    carts: createCartHandlers(),
    orders: createOrderHandlers(ctx, { reservationTtlSeconds: deps.reservationTtlSeconds }),
    fulfilment: createFulfilmentHandlers(ctx),
  };
}

export type Application = ReturnType<typeof createApplication>;
