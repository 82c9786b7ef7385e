import type pg from 'pg';
import type { Queryable } from './db.ts';
import { READ_MODEL_CHANNEL } from './db.ts';

/** A stream and the version of it a reader wants to see. */
export interface StreamPosition {
  aggregateId: string;
  minVersion: number;
}

/**
 * The other streams a write to `aggregateId` also touched and that the reader's answer shows (asked only when a
 * wait is granted): a product's stock is its inventory stream, written in the product's creating transaction.
 */
export type Companions = (aggregateId: string) => Promise<readonly StreamPosition[]>;

export interface WaitForVersionOptions extends StreamPosition {
  /**
   * Other streams the same write touched whose rows the reader also sees (a product's stock lives in its inventory
   * stream): each reaches the read model through its own partition, so each is waited for too.
   */
  also?: readonly StreamPosition[];
  /** Give up after this long and return false. Default 3000. */
  timeoutMs?: number;
  /**
   * How far the read model is, default: the projector's position for the stream (projection_streams), which
   * the runner advances in the same transaction as every row the stream feeds. Pass a getter to wait on
   * something else; it is re-run whenever the stream's notification arrives.
   */
  version?: (db: Queryable) => Promise<number | null>;
}

/** The projector's positions for some streams, in one query; a stream it has never seen is absent. */
export async function streamVersions(db: Queryable, aggregateIds: readonly string[]): Promise<Map<string, number>> {
  const { rows } = await db.query<{ aggregate_id: string; version: number }>(
    'SELECT aggregate_id, version FROM projection_streams WHERE aggregate_id = ANY($1)',
    [aggregateIds],
  );
  return new Map(rows.map((r) => [r.aggregate_id, r.version]));
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
  const targets = new Map<string, number>();
  for (const t of [...(opts.also ?? []), opts]) targets.set(t.aggregateId, Math.max(t.minVersion, targets.get(t.aggregateId) ?? 0));
  // The streams not yet seen at their version. Versions only grow, so a stream once caught up stays off the list.
  let pending = new Map(targets);
  const custom = opts.version;
  const check = async (db: Queryable): Promise<boolean> => {
    const ids = [...pending.keys()].filter((id) => !(custom && id === opts.aggregateId));
    const positions = ids.length > 0 ? await streamVersions(db, ids) : new Map<string, number>();
    if (custom && pending.has(opts.aggregateId)) positions.set(opts.aggregateId, (await custom(db)) ?? 0);
    pending = new Map([...pending].filter(([id, min]) => (positions.get(id) ?? 0) < min));
    return pending.size === 0;
  };
  if (await check(pool)) return true;
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
      const recheck = () => {
        check(client).then((ok) => ok && !settled && settle(true), reject);
      };
      onNotification = (msg) => {
        const note = parseNotification(msg.payload);
        const min = note ? pending.get(note.aggregateId) : undefined;
        if (settled || !note || min === undefined || note.version < min) return;
        // The default position is exactly what the payload says (NOTIFY is delivered on commit); a custom
        // getter must look for itself.
        if (custom && note.aggregateId === opts.aggregateId) return recheck();
        pending.delete(note.aggregateId);
        if (pending.size === 0) settle(true);
      };
      client.on('notification', onNotification);
      timer = setTimeout(() => settled || settle(false), Math.max(0, deadline - Date.now()));
      recheck();
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
