import type { CatalogService } from '../app/catalog.ts';
import type { CartService } from '../app/carts.ts';
import type { Executor } from '../app/executor.ts';
import type { InventoryService } from '../app/inventory.ts';
import type { OrderService } from '../app/orders.ts';
import type { UserService } from '../app/users.ts';
import type { EventStore } from '../eventstore/types.ts';
import type { ReadQueries } from '../readmodel/queries.ts';
import type { Readiness } from '../shared/health.ts';
import type { Logger } from '../shared/log.ts';
import type { Metrics } from '../shared/metrics.ts';
import type { Tokens } from './auth.ts';

/** Everything the HTTP layer needs, built by the entry point and passed in (no globals, easy to fake). */
export interface HttpDeps {
  tokens: Tokens;
  executor: Executor;
  queries: ReadQueries;
  store: EventStore;
  services: {
    users: UserService;
    catalog: CatalogService;
    inventory: InventoryService;
    carts: CartService;
    orders: OrderService;
  };
  ops: {
    /** /readyz from cached, bounded probes (src/shared/health.ts): never waits on a dependency. */
    readiness: () => Readiness;
    /** /ops/lag: never rejects; the last report, marked stale, while the broker does not answer. */
    lag: () => Promise<unknown>;
    sagas: (opts: { limit: number; sagaId?: string }) => Promise<unknown>;
    metrics: Metrics;
    links: Record<string, string>;
  };
  log: Logger;
  bodyLimitBytes: number;
  /** Directory of the SPA (index.html and assets). */
  webDir: string;
  loginRateLimit?: { limit: number; windowMs: number };
}
