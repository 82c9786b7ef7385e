import type pg from 'pg';
import type { Queryable } from './db.ts';
import { READ_MODEL_CHANNEL, SAGA_CHANNEL } from './db.ts';
import { parseNotification } from './wait.ts';
import { exponentialDelay } from '../shared/retry.ts';

/**
 * A stream the read model now reflects up to `version`, and the user it belongs to (orders and carts). A saga's
 * change has `aggregate_type` 'Saga', its saga id, the number of steps it has recorded as `version`, and the
 * owner of its order.
 */
export interface LiveChange {
  aggregate_id: string;
  aggregate_type: string;
  version: number;
  /** The customer whose order or cart this is; null for everything else (products, stock, users, …). */
  owner: string | null;
}

export interface LiveListener {
  change(change: LiveChange): void;
  /** Notifications may have been lost (the LISTEN connection broke): refetch everything. */
  resync(): void;
  /** The hub is shutting down (the api is stopping): end the stream. */
  close?(): void;
}

/** The part of pg.Client the hub uses: LISTEN on a connection of its own. */
export type ListenClient = Pick<pg.Client, 'query' | 'on' | 'removeAllListeners' | 'end'>;

export interface LiveHubOptions {
  /** Opens a dedicated connection (never a pooled one: it is held for the life of the process). */
  connect: () => Promise<ListenClient>;
  /** Where owners and aggregate types are looked up. */
  db: Queryable;
  log: { warn: (message: string, fields?: Record<string, unknown>) => void };
  /** Notifications arriving within this window are looked up with one query. Default 50 ms. */
  flushMs?: number;
  /** First reconnect delay after the connection broke; doubles up to 30 s. Default 1000 ms. */
  retryMs?: number;
}

export interface LiveHub {
  subscribe(listener: LiveListener): () => void;
  /** Resolves once the LISTEN connection is active (at once if it is), so a change after it is not missed. */
  listening(): Promise<void>;
  /** Listeners currently subscribed (for metrics and tests). */
  size(): number;
  close(): Promise<void>;
}

/**
 * Fans the projector's `NOTIFY read_model_updated` out to the api's live streams (GET /live). One LISTEN
 * connection per api process, opened when the first browser subscribes; a batch of notifications costs one
 * query that resolves each stream's type and owner, so per-user filtering never trusts the client.
 * NOTIFY is delivered on commit, so the rows a notification names are readable when it arrives.
 */
/** A client being dropped may still emit 'error'; unhandled, that would take the process down. */
const quiet = (c: ListenClient) => {
  c.removeAllListeners();
  c.on('error', () => {});
};

export function createLiveHub(opts: LiveHubOptions): LiveHub {
  const listeners = new Set<LiveListener>();
  const flushMs = opts.flushMs ?? 50;
  const pending = new Map<string, number>();
  const pendingSagas = new Set<string>();
  let client: ListenClient | undefined;
  let starting: Promise<void> | undefined;
  let flushTimer: NodeJS.Timeout | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  /** LISTEN attempts that failed in a row (the reconnect delay doubles with each). */
  let failures = 0;
  let closed = false;

  const each = (fn: (l: LiveListener) => void) => {
    for (const l of [...listeners]) {
      try {
        fn(l);
      } catch (err) {
        opts.log.warn('live: a listener failed', { error: (err as Error).message });
      }
    }
  };

  async function flush(): Promise<void> {
    flushTimer = undefined;
    const batch = [...pending];
    const sagas = [...pendingSagas];
    pending.clear();
    pendingSagas.clear();
    if ((batch.length === 0 && sagas.length === 0) || listeners.size === 0) return;
    try {
      if (sagas.length > 0) await flushSagas(sagas);
      if (batch.length === 0) return;
      const { rows } = await opts.db.query<{ aggregate_id: string; aggregate_type: string; owner: string | null }>(
        `SELECT s.aggregate_id, s.aggregate_type, COALESCE(o.user_id, c.user_id) AS owner
           FROM unnest($1::text[]) AS n(id)
           JOIN projection_streams s ON s.aggregate_id = n.id
           LEFT JOIN read_orders o ON o.order_id = n.id
           LEFT JOIN read_carts c ON c.cart_id = n.id`,
        [batch.map(([id]) => id)],
      );
      const versions = new Map(batch);
      for (const row of rows) {
        const change: LiveChange = {
          aggregate_id: row.aggregate_id,
          aggregate_type: row.aggregate_type,
          version: versions.get(row.aggregate_id)!,
          owner: row.owner,
        };
        each((l) => l.change(change));
      }
    } catch (err) {
      // Without owners nothing can be routed safely; everyone refetches instead of missing the change.
      opts.log.warn('live: could not resolve changed streams; asking clients to resync', { error: (err as Error).message });
      each((l) => l.resync());
    }
  }

  async function flushSagas(ids: string[]): Promise<void> {
    const { rows } = await opts.db.query<{ saga_id: string; owner: string | null; steps: number }>(
      `SELECT s.saga_id, o.user_id AS owner, (SELECT count(*)::int FROM saga_log l WHERE l.saga_id = s.saga_id) AS steps
         FROM unnest($1::text[]) AS n(id)
         JOIN sagas s ON s.saga_id = n.id
         LEFT JOIN read_orders o ON o.order_id = s.order_id`,
      [ids],
    );
    for (const row of rows) {
      const change: LiveChange = { aggregate_id: row.saga_id, aggregate_type: 'Saga', version: row.steps, owner: row.owner };
      each((l) => l.change(change));
    }
  }

  const onNotification = (msg: pg.Notification) => {
    if (msg.channel === SAGA_CHANNEL) {
      if (!msg.payload || listeners.size === 0) return;
      pendingSagas.add(msg.payload);
      flushTimer ??= setTimeout(() => void flush(), flushMs);
      return;
    }
    const note = parseNotification(msg.payload);
    if (!note || listeners.size === 0) return;
    pending.set(note.aggregateId, Math.max(note.version, pending.get(note.aggregateId) ?? 0));
    flushTimer ??= setTimeout(() => void flush(), flushMs);
  };

  function broken(err: Error | undefined, c: ListenClient): void {
    if (client !== c) return;
    client = undefined;
    quiet(c);
    c.end().catch(() => {});
    if (closed) return;
    opts.log.warn('live: LISTEN connection lost; reconnecting', { error: err?.message, retry_ms: reconnectLater() });
  }

  /** Schedules the next LISTEN attempt, 1 s doubling up to 30 s while they keep failing; returns its delay. */
  function reconnectLater(): number {
    failures += 1;
    const delay = exponentialDelay(failures, { initialMs: opts.retryMs ?? 1000, maxMs: 30_000 });
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void start().then(() => each((l) => l.resync()));
    }, delay);
    return delay;
  }

  function start(): Promise<void> {
    if (client || closed) return Promise.resolve();
    starting ??= (async () => {
      let c: ListenClient | undefined;
      try {
        c = await opts.connect();
        const opened = c;
        opened.on('notification', onNotification);
        opened.on('error', (err: Error) => broken(err, opened));
        opened.on('end', () => broken(undefined, opened));
        client = opened;
        await opened.query(`LISTEN ${READ_MODEL_CHANNEL}; LISTEN ${SAGA_CHANNEL}`);
        failures = 0;
        if (closed) await opened.end().catch(() => {});
      } catch (err) {
        if (c && client === c) broken(err as Error, c);
        else if (!closed) {
          c?.end().catch(() => {});
          opts.log.warn('live: cannot LISTEN yet; retrying', { error: (err as Error).message, retry_ms: reconnectLater() });
        }
      } finally {
        starting = undefined;
      }
    })();
    return starting;
  }

  return {
    subscribe(listener) {
      listeners.add(listener);
      if (!client && !retryTimer) void start();
      return () => {
        listeners.delete(listener);
      };
    },
    listening: () => starting ?? (client ? Promise.resolve() : start()),
    size: () => listeners.size,
    async close() {
      closed = true;
      clearTimeout(flushTimer);
      clearTimeout(retryTimer);
      each((l) => l.close?.());
      listeners.clear();
      await starting;
      const c = client;
      client = undefined;
      if (c) {
        quiet(c);
        await c.end().catch(() => {});
      }
    },
  };
}
