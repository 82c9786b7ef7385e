import type pg from 'pg';

/**
 * What the read side needs from a connection: a pg.Pool, a checked-out pg.PoolClient or a pg.Client.
 * Projections receive the client of their batch transaction; queries usually receive the pool.
 */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

/**
 * The channel the projector NOTIFYs after each batch (payload `<aggregate_id>:<version>`) and read-your-writes
 * waiters LISTEN on. Defined here, on the read side, so the api can wait without importing the projector.
 */
export const READ_MODEL_CHANNEL = 'read_model_updated';

/**
 * The channel the worker NOTIFYs when it records a saga step (payload: the saga id). The saga log is written by
 * the worker, not the projector, so its changes would otherwise reach a live view only by polling.
 */
export const SAGA_CHANNEL = 'saga_updated';
