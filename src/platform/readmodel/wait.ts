import type pg from 'pg';
import type { Queryable } from './db.ts';
import { READ_MODEL_CHANNEL } from './db.ts';

export interface WaitForVersionOptions {
  /** The stream the command wrote (order id, `cart-<user_id>`, product id, …). */
  aggregateId: string;
  /** The version the command answered with. */
  minVersion: number;
  /** Give up after this long and return false. Default 3000. */
  timeoutMs?: number;
  /**
   * How far the read model is, default: the projector's position for the stream (projection_streams), which
   * the runner advances in the same transaction as every row the stream feeds. Pass a getter to wait on
   * something else; it is re-run whenever the stream's notification arrives.
   */
  version?: (db: Queryable) => Promise<number | null>;
}

/** The projector's position for one stream, null if it has never seen it. */
export async function streamVersion(db: Queryable, aggregateId: string): Promise<number | null> {
  const { rows } = await db.query<{ version: number }>('SELECT version FROM projection_streams WHERE aggregate_id = $1', [aggregateId]);
  return rows[0]?.version ?? null;
}

/** `<aggregate_id>:<version>`; the id itself may contain ':'. */
export function parseNotification(payload: string | undefined): { aggregateId: string; version: number } | null {
  if (!payload) return null;
  const at = payload.lastIndexOf(':');
  const digits = payload.slice(at + 1);
  return at > 0 && /^\d{1,15}$/.test(digits) ? { aggregateId: payload.slice(0, at), version: Number(digits) } : null;
}

/**
 * Read-your-writes (docs/projections.md): resolves true as soon as the read model reflects `minVersion` of the stream,
 * false after the timeout. Already caught up → one query, no connection held. Otherwise it holds one client of
 * `pool` while it LISTENs, so under many concurrent waits give it a pool of its own (the waits then cannot
 * starve ordinary queries). Checks again after LISTEN is active: an update committed between the first check
 * and the LISTEN would otherwise be missed and the caller would wait out the whole timeout.
 */
export async function waitForVersion(pool: pg.Pool, opts: WaitForVersionOptions): Promise<boolean> {
  const deadline = Date.now() + (opts.timeoutMs ?? 3000);
  const read = opts.version ?? ((db: Queryable) => streamVersion(db, opts.aggregateId));
  const caughtUp = async (db: Queryable) => ((await read(db)) ?? 0) >= opts.minVersion;
  if (await caughtUp(pool)) return true;
  if (Date.now() >= deadline) return false;

  const client = await connectBefore(pool, deadline);
  if (!client) return false;
  let broken: Error | undefined;
  let onNotification: ((msg: pg.Notification) => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    await client.query(`LISTEN ${READ_MODEL_CHANNEL}`);
    return await new Promise<boolean>((resolve, reject) => {
      let settled = false;
      const settle = (value: boolean) => {
        settled = true;
        resolve(value);
      };
      const check = () => {
        caughtUp(client).then((ok) => ok && !settled && settle(true), reject);
      };
      onNotification = (msg) => {
        const note = parseNotification(msg.payload);
        if (settled || !note || note.aggregateId !== opts.aggregateId || note.version < opts.minVersion) return;
        // The default position is exactly what the payload says (NOTIFY is delivered on commit); a custom
        // getter must look for itself.
        if (opts.version) check();
        else settle(true);
      };
      client.on('notification', onNotification);
      timer = setTimeout(() => settled || settle(false), Math.max(0, deadline - Date.now()));
      check();
    });
  } catch (err) {
    broken = err as Error;
    throw err;
  } finally {
    clearTimeout(timer);
    if (onNotification) client.off('notification', onNotification);
    // The answer does not wait for UNLISTEN's round trip: the client goes back to the pool once it is done
    // (a client that cannot UNLISTEN is discarded, not reused with a stale LISTEN).
    void client
      .query(`UNLISTEN ${READ_MODEL_CHANNEL}`)
      .catch((err: Error) => {
        broken ??= err;
      })
      .finally(() => client.release(broken));
  }
}

/** A pool client, or null if none became free before the deadline (the late one is handed straight back). */
async function connectBefore(pool: pg.Pool, deadline: number): Promise<pg.PoolClient | null> {
  const connecting = pool.connect();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), Math.max(0, deadline - Date.now()));
  });
  try {
    const client = await Promise.race([connecting, expired]);
    if (!client)
      connecting.then(
        (late) => late.release(),
        () => {},
      );
    return client;
  } finally {
    clearTimeout(timer);
  }
}
