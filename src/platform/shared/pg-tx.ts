/**
 * The project's one PostgreSQL transaction helper, and which PostgreSQL failures are worth running a
 * transaction again for.
 */
import type pg from 'pg';
import { retry } from './retry.ts';

export interface TransactionOptions {
  /** The statement that opens the transaction (default `BEGIN`; e.g. `BEGIN; SET LOCAL lock_timeout = '5s'`). */
  begin?: string;
}

/**
 * BEGIN … COMMIT on one pooled client; ROLLBACK and rethrow if `work` (or COMMIT) fails. A connection that cannot
 * even roll back is destroyed, not handed back to the pool in an unknown state.
 */
export async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
  opts: TransactionOptions = {},
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query(opts.begin ?? 'BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch((rollbackErr: Error) => {
      broken = rollbackErr;
    });
    throw err;
  } finally {
    client.release(broken);
  }
}

/** deadlock_detected, serialization_failure: PostgreSQL aborted one side of a conflict, and running it again is safe. */
export const PG_CONFLICT_CODES: readonly string[] = ['40P01', '40001'];

/** The SQLSTATE of a PostgreSQL error, '' for anything else. */
export const pgCode = (err: unknown): string => {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
};

/** Whether `err` carries one of `codes` (default: a deadlock or a serialisation failure). */
export const isPgConflict = (err: unknown, codes: readonly string[] = PG_CONFLICT_CODES): boolean => codes.includes(pgCode(err));

/** The wait after the `attempt`-th conflict: 10–50 ms per attempt, spread so the two sides do not collide again. */
export const pgConflictDelay = (attempt: number, random: () => number = Math.random): number => 10 * attempt + random() * 40 * attempt;

/**
 * Runs `fn` (which opens its own transaction) again when PostgreSQL aborted it as a deadlock or serialisation
 * victim, up to `attempts` tries in all; any other failure, or the last conflict, is rethrown.
 */
export function retryOnPgConflict<T>(
  fn: (attempt: number) => Promise<T>,
  opts: { attempts: number; onRetry?: (err: unknown, attempt: number) => void },
): Promise<T> {
  return retry(fn, {
    attempts: opts.attempts,
    retryable: (err) => isPgConflict(err),
    delayMs: (attempt) => pgConflictDelay(attempt),
    ...(opts.onRetry ? { onRetry: opts.onRetry } : {}),
  });
}
