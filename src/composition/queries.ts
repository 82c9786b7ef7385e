import type pg from 'pg';
import { getCart } from '../contexts/carts/queries.ts';
import type { ListProductsOptions } from '../contexts/catalog/queries.ts';
import { getProduct, listCategories, listProducts } from '../contexts/catalog/queries.ts';
import type { ListEventsOptions } from '../platform/readmodel/event-queries.ts';
import { listEvents } from '../platform/readmodel/event-queries.ts';
import { getInventory, listInventory } from '../contexts/inventory/queries.ts';
import { marketingCustomers, marketingDaily, marketingOverview, marketingProducts } from '../contexts/reporting/queries.ts';
import type { ListOrdersOptions } from '../contexts/orders/queries.ts';
import { getOrder, listOrders, orderStatistics } from '../contexts/orders/queries.ts';
import { listRebuilds } from './ops-queries.ts';
import type { ListSagasOptions } from '../kernel/saga-queries.ts';
import { getSaga, listSagas } from '../kernel/saga-queries.ts';
import type { WaitForVersionOptions } from '../platform/readmodel/wait.ts';
import { waitForVersion } from '../platform/readmodel/wait.ts';

export type { ListProductsOptions } from '../contexts/catalog/queries.ts';
export type { ListEventsOptions } from '../platform/readmodel/event-queries.ts';
export type { ListOrdersOptions } from '../contexts/orders/queries.ts';
export type { ListSagasOptions } from '../kernel/saga-queries.ts';
export type { WaitForVersionOptions } from '../platform/readmodel/wait.ts';

export interface ReadQueriesOptions {
  pool: pg.Pool;
  /**
   * Pool for read-your-writes waits, which hold a connection while they LISTEN (default: `pool`). A small pool
   * of its own keeps a burst of waiting requests from starving ordinary queries.
   */
  waitPool?: pg.Pool;
}

/**
 * Everything the API reads, bound to its pools. Every query is parameterised SQL against the read_* tables and
 * returns snake_case, JSON-ready objects (ISO-8601 strings, integer yen). Bad paging input (limit, cursor,
 * status) throws a validation AppError, which the HTTP layer maps to 400.
 */
export function createReadQueries(opts: ReadQueriesOptions) {
  const db = opts.pool;
  return {
    getProduct: (id: string, o?: { includeDeleted?: boolean }) => getProduct(db, id, o),
    listProducts: (o?: ListProductsOptions) => listProducts(db, o),
    listCategories: () => listCategories(db),
    getInventory: (productId: string) => getInventory(db, productId),
    listInventory: (o?: { limit?: number; cursor?: string }) => listInventory(db, o),
    getCart: (userId: string) => getCart(db, userId),
    getOrder: (orderId: string) => getOrder(db, orderId),
    listOrders: (o?: ListOrdersOptions) => listOrders(db, o),
    orderStatistics: () => orderStatistics(db),
    listEvents: (o?: ListEventsOptions) => listEvents(db, o),
    marketingOverview: () => marketingOverview(db),
    marketingCustomers: (o?: { limit?: number }) => marketingCustomers(db, o),
    marketingProducts: (o?: { limit?: number }) => marketingProducts(db, o),
    marketingDaily: (o?: { days?: number }) => marketingDaily(db, o),
    listSagas: (o?: ListSagasOptions) => listSagas(db, o),
    getSaga: (sagaId: string) => getSaga(db, sagaId),
    listRebuilds: (o?: { limit?: number }) => listRebuilds(db, o),
    waitForVersion: (o: WaitForVersionOptions) => waitForVersion(opts.waitPool ?? db, o),
  };
}

export type ReadQueries = ReturnType<typeof createReadQueries>;
