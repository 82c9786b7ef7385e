import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { EventStore } from '../../platform/eventstore/types.ts';
import type { Queryable } from '../../platform/readmodel/db.ts';
import { READ_SCHEMA } from '../../platform/readmodel/schema.ts';
import { EventDataError } from '../../platform/shared/contract.ts';
import type { EventEnvelope } from '../../platform/shared/envelope.ts';
import { inTransaction, isPgConflict, pgCode } from '../../platform/shared/pg-tx.ts';
import { retry } from '../../platform/shared/retry.ts';
import type { ProjectionFamily } from './families.ts';
import { familyOf } from './families.ts';
import { createProjectionRunner } from './runner.ts';

/**
 * How a rebuild applies a batch: to the tables its pool's search_path resolves (the copy being built), with
 * the live projector's code, so a rebuild and the live read model cannot disagree. The one place to swap in
 * another batch engine.
 */
export interface BatchApplier {
  applyBatch(events: readonly EventEnvelope[]): Promise<unknown>;
}
export type ApplierFactory = (pool: pg.Pool, eventStore: Pick<EventStore, 'readStream'>) => BatchApplier;
export const defaultApplier: ApplierFactory = (pool, eventStore) => createProjectionRunner({ pool, eventStore });

export interface RebuildOptions {
  /** A pool on the read database (its sessions' search_path reaches read_model and public). */
  pool: pg.Pool;
  eventStore: Pick<EventStore, 'scanAll' | 'readStream'>;
  /** One projection family (src/composition/projections/families.ts) or 'all' (default). */
  projection?: string;
  /** Events per transaction. Default 2000 (about one DynamoDB scan page; fewer, larger transactions). */
  batchSize?: number;
  /**
   * Parallel scan segments of the event store, each applying its own pages in order. Default 16: DynamoDB
   * Local's scan time falls steeply with more segments (measured, see the README's rebuild section).
   */
  segments?: number;
  /** Batches applied in PostgreSQL at once, whatever the number of segments. Default 4. */
  applyConcurrency?: number;
  /** How many events the store holds, roughly (DynamoDB's DescribeTable item count), for the ETA. */
  estimateTotal?: () => Promise<number | undefined>;
  log?: (line: string) => void;
  /** Progress line and ops_rebuilds heartbeat interval. Default 1000 ms. */
  progressEveryMs?: number;
  applier?: ApplierFactory;
  /** Called after each applied batch of the scan phase, with the events scanned so far (tests pace or kill it here). */
  onBatch?: (scanned: number) => Promise<void> | void;
}

export interface RebuildReport {
  rebuild_id: string;
  projection: string;
  /** The schema the tables were built in. */
  schema: string;
  /** Live tables replaced by the rebuilt ones at the switch (the live schema is read_model). */
  replaced: string[];
  /** Events read by the scan. */
  events: number;
  /** Streams in the rebuilt read model. */
  streams: number;
  batches: number;
  /** Events the live projector had applied that the scan had not seen, applied before the switch. */
  caught_up: number;
  scan_ms: number;
  switch_ms: number;
  total_ms: number;
  /** Events applied per second (scan phase). */
  events_per_second: number;
  /** Of scan_ms, how long at least one batch was in PostgreSQL (the rest, the appliers waited for the scan). */
  apply_busy_ms: number;
  /**
   * Streams the live projector had parked that the rebuild could not apply either: applied up to the event
   * that fails, and still parked (public.parked_streams now says where the rebuild met the failure).
   */
  parked: string[];
  /** Streams the live projector had parked that the rebuild applied whole (after a fix): unparked at the switch. */
  unparked: string[];
}

export class RebuildBusyError extends Error {
  constructor() {
    super('another rebuild is running on this database (GET /ops/rebuilds shows it)');
    this.name = 'RebuildBusyError';
  }
}

/** Session advisory lock: one rebuild per database at a time; released by PostgreSQL if the process dies. */
const REBUILD_LOCK = 727275;
const REBUILD_PREFIX = 'read_rebuild_';
/** A rebuild switches once this few streams are still behind the live projector (the rest go under the lock). */
const SWITCH_WHEN_LAGGING = 200;
const MAX_CATCH_UP_ROUNDS = 8;
const SWITCH_ATTEMPTS = 6;
/** Scan pages fetched ahead of the appliers: with the ones being applied, all a rebuild holds in memory. */
const PREFETCHED_PAGES = 4;

const ident = (name: string): string => {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`refusing unexpected identifier ${name}`);
  return `"${name}"`;
};

/**
 * Rebuilds the read model, or one projection family, without downtime (blue/green, docs/projections.md):
 * 1. under a session advisory lock (one rebuild at a time), leftovers of a killed or failed rebuild are
 *    dropped (schemas read_rebuild_*) and its ops_rebuilds row marked abandoned;
 * 2. a new schema read_rebuild_<id> gets an empty copy of every read_model table (secondary indexes are created
 *    after the load); its sessions' search_path is that schema alone, so nothing else can be written;
 * 3. the event store is scanned by parallel segments, each applying its pages in order through the batch
 *    engine as they come: memory holds at most `segments` pages, whatever the store's size;
 * 4. catch-up: streams the live projector has applied further than the scan saw get their tails from the event
 *    store, in rounds, then once more under LOCK projection_streams IN EXCLUSIVE MODE (live batches wait; reads
 *    do not), and in that same transaction the rebuilt tables replace the live ones (ALTER TABLE … SET SCHEMA)
 *    and the old ones are dropped. Live batches waiting on the lock resume on the new tables.
 * Until the switch the shop answers from the old tables and the live projector keeps running. A failure or a
 * kill before the commit leaves the live tables untouched. Side-effect tables (public: sent_emails, saga_log,
 * sagas, timers, ops tables) are never touched.
 *
 * A family rebuild replays only its streams, capped per stream at the live position when it started (the live
 * projection_streams is not replaced, so the family's tables must end exactly at it), and replaces only the
 * family's tables.
 */
export async function rebuild(opts: RebuildOptions): Promise<RebuildReport> {
  const log = opts.log ?? (() => {});
  const family = familyOf(opts.projection);
  const projection = family?.name ?? 'all';
  const batchSize = Math.max(1, opts.batchSize ?? 2000);
  const segments = Math.max(1, opts.segments ?? 16);
  const applyConcurrency = Math.max(1, opts.applyConcurrency ?? 4);
  const started = Date.now();

  const lock = await opts.pool.connect();
  let broken: Error | undefined;
  try {
    const { rows } = await lock.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [REBUILD_LOCK]);
    if (!rows[0]!.ok) throw new RebuildBusyError();
    await cleanUpLeftovers(lock, log);

    const id = `${started.toString(36)}_${randomBytes(3).toString('hex')}`;
    const schema = `${REBUILD_PREFIX}${id}`;
    const total = await opts.estimateTotal?.().catch(() => undefined);
    await lock.query(
      `INSERT INTO public.ops_rebuilds (rebuild_id, projection, status, schema_name, events_total) VALUES ($1, $2, 'running', $3, $4)`,
      [id, projection, schema, total ?? null],
    );
    log(`rebuild ${id} [${projection}] into schema ${schema}${total !== undefined ? `, about ${total} events in the store` : ''}`);

    // synchronous_commit off: a batch's commit does not wait for its WAL flush. Safe here — a crash loses at most
    // the copy, which a rebuild that did not switch throws away anyway; the switch itself commits synchronously.
    const work = new pg.Pool({
      ...connectionOf(opts.pool),
      max: applyConcurrency + 2,
      options: `-c search_path=${schema} -c synchronous_commit=off`,
    });
    work.on('error', () => {});
    const progress = startProgress({ pool: opts.pool, id, projection, total, log, everyMs: opts.progressEveryMs ?? 1000 });
    try {
      const tables = await readModelTables(lock);
      const swap = family ? family.tables.filter((t) => tables.includes(t)) : tables;
      const indexes = await createCopy(lock, schema, tables);
      if (family) await snapshotPositions(lock, schema, family);

      const parked = new Map<string, ParkedHere>();
      const gate = gated((opts.applier ?? defaultApplier)(work, opts.eventStore), applyConcurrency);
      const applier = tolerateParked(gate, opts.pool, parked, log);
      const types = family?.streams ? new Set<string>(family.streams) : undefined;
      let batches = 0;
      await opts.eventStore.scanAll(
        async (page) => {
          let events = types ? page.filter((e) => types.has(e.aggregate_type)) : page;
          if (family && events.length > 0) events = await capAtStart(work, events);
          for (let i = 0; i < events.length; i += batchSize) {
            await applier.applyBatch(events.slice(i, i + batchSize));
            batches++;
          }
          progress.add(page.length);
          await opts.onBatch?.(progress.done());
        },
        { segments, pagesInMemory: applyConcurrency + PREFETCHED_PAGES },
      );
      const scanMs = Date.now() - started;
      const applyBusyMs = gate.busyMs();
      log(`rebuild ${id}: scanned ${progress.done()} events in ${scanMs} ms; creating ${indexes.length} indexes`);
      for (const sql of indexes) await lock.query(sql);
      await lock.query(`ANALYZE ${swap.map((t) => `${ident(schema)}.${ident(t)}`).join(', ')}`);

      await progress.status('catching_up');
      let caughtUp = 0;
      for (let round = 1; round <= MAX_CATCH_UP_ROUNDS; round++) {
        const behind = await lagging(opts.pool, schema, family, parked);
        if (behind.length === 0) break;
        caughtUp += await applyTails(applier, opts.eventStore, behind, batchSize);
        if (behind.length <= SWITCH_WHEN_LAGGING) break;
      }
      progress.stop();

      const switchStarted = Date.now();
      const switched = await switchOver({
        pool: opts.pool,
        schema,
        id,
        swap,
        family,
        applier,
        parked,
        eventStore: opts.eventStore,
        batchSize,
        log,
      });
      caughtUp += switched.caught;
      const switchMs = Date.now() - switchStarted;
      await lock.query(`DROP SCHEMA IF EXISTS ${ident(schema)} CASCADE`);
      const streams = Number(
        (await opts.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${READ_SCHEMA}.projection_streams`)).rows[0]!.n,
      );

      const report: RebuildReport = {
        rebuild_id: id,
        projection,
        schema,
        replaced: swap,
        events: progress.done(),
        streams,
        batches,
        caught_up: caughtUp,
        scan_ms: scanMs,
        switch_ms: switchMs,
        total_ms: Date.now() - started,
        events_per_second: Math.round((progress.done() / Math.max(scanMs, 1)) * 1000),
        apply_busy_ms: applyBusyMs,
        parked: [...parked.keys()].sort(),
        unparked: switched.unparked,
      };
      await opts.pool.query(
        `UPDATE public.ops_rebuilds SET events_done = $2, events_per_second = $3, heartbeat_at = now(), finished_at = now() WHERE rebuild_id = $1`,
        [id, report.events, report.events_per_second],
      );
      log(
        `rebuild ${id} [${projection}]: ${report.events} events at ${report.events_per_second} events/s, ${caughtUp} caught up, switched in ${switchMs} ms; replaced ${swap.join(', ')}${report.parked.length > 0 ? `; still parked (failing here too): ${report.parked.join(', ')}` : ''}${report.unparked.length > 0 ? `; unparked (applied whole): ${report.unparked.join(', ')}` : ''}`,
      );
      return report;
    } catch (err) {
      progress.stop();
      const message = err instanceof Error ? err.message : String(err);
      log(`rebuild ${id} failed, live tables untouched: ${message}`);
      await opts.pool
        .query(
          `UPDATE public.ops_rebuilds SET status = 'failed', error = $2, heartbeat_at = now(), finished_at = now() WHERE rebuild_id = $1`,
          [id, message.slice(0, 2000)],
        )
        .catch(() => {});
      await work.end().catch(() => {});
      await lock.query(`DROP SCHEMA IF EXISTS ${ident(schema)} CASCADE`).catch(() => {});
      throw err;
    } finally {
      await work.end().catch(() => {});
    }
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [REBUILD_LOCK]).catch((e: Error) => {
      broken = e;
    });
    lock.release(broken);
  }
}

const connectionOf = (pool: pg.Pool): pg.PoolConfig => {
  const { max: _max, options: _options, ...rest } = pool.options as pg.PoolConfig;
  void _max;
  void _options;
  return rest;
};

/** A rebuild that died (killed, machine lost) left its schema and a `running` row: both go before a new one. */
async function cleanUpLeftovers(db: Queryable, log: (line: string) => void): Promise<void> {
  const { rows } = await db.query<{ rebuild_id: string }>(
    `UPDATE public.ops_rebuilds SET status = 'abandoned', finished_at = now(), error = coalesce(error, 'the rebuild process stopped before it finished')
      WHERE status IN ('running', 'catching_up') RETURNING rebuild_id`,
  );
  const { rows: schemas } = await db.query<{ nspname: string }>(
    `SELECT nspname FROM pg_namespace WHERE nspname LIKE 'read\\_rebuild\\_%' OR nspname LIKE 'read\\_old\\_%'`,
  );
  for (const s of schemas) await db.query(`DROP SCHEMA IF EXISTS ${ident(s.nspname)} CASCADE`);
  if (rows.length > 0 || schemas.length > 0) {
    log(
      `cleaned up after an unfinished rebuild: ${[...rows.map((r) => `rebuild ${r.rebuild_id} abandoned`), ...schemas.map((s) => `schema ${s.nspname} dropped`)].join(', ')}`,
    );
  }
}

async function readModelTables(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ tablename: string }>('SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename', [
    READ_SCHEMA,
  ]);
  if (rows.length === 0) throw new Error(`schema ${READ_SCHEMA} has no tables: run the migrations first`);
  return rows.map((r) => r.tablename);
}

/**
 * An empty copy of every read_model table in `schema`: columns, defaults, generated columns, checks and the
 * primary / unique constraints (the upserts need them) now, under their live names; the other indexes are
 * returned as statements to run after the load (building an index once is cheaper than maintaining it).
 */
async function createCopy(db: Queryable, schema: string, tables: string[]): Promise<string[]> {
  await db.query(`CREATE SCHEMA ${ident(schema)}`);
  for (const t of tables) {
    await db.query(
      `CREATE TABLE ${ident(schema)}.${ident(t)} (LIKE ${READ_SCHEMA}.${ident(t)} INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING IDENTITY INCLUDING CONSTRAINTS INCLUDING STORAGE)`,
    );
  }
  const { rows: constraints } = await db.query<{ tablename: string; conname: string; def: string; index: string }>(
    `SELECT c.conrelid::regclass::text AS tablename, c.conname, pg_get_constraintdef(c.oid) AS def, c.conindid::regclass::text AS index
       FROM pg_constraint c WHERE c.connamespace = $1::regnamespace AND c.contype IN ('p', 'u', 'x')`,
    [READ_SCHEMA],
  );
  for (const c of constraints) {
    const table = c.tablename.replace(/^.*\./, '').replace(/"/g, '');
    await db.query(`ALTER TABLE ${ident(schema)}.${ident(table)} ADD CONSTRAINT ${ident(c.conname)} ${c.def}`);
  }
  const owned = new Set(constraints.map((c) => c.index.replace(/^.*\./, '').replace(/"/g, '')));
  const { rows: indexes } = await db.query<{ indexname: string; indexdef: string }>(
    'SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1 ORDER BY indexname',
    [READ_SCHEMA],
  );
  const live = new RegExp(`\\sON (ONLY )?${READ_SCHEMA}\\.`);
  return indexes
    .filter((i) => !owned.has(i.indexname))
    .map((i) => {
      if (!live.test(i.indexdef)) throw new Error(`cannot copy index ${i.indexname}: ${i.indexdef}`);
      return i.indexdef.replace(live, ` ON ${ident(schema)}.`);
    });
}

/** Family rebuilds stop every stream where the live projector was when they started (see rebuild()). */
async function snapshotPositions(db: Queryable, schema: string, family: ProjectionFamily): Promise<void> {
  await db.query(`CREATE TABLE ${ident(schema)}._rebuild_start (aggregate_id text PRIMARY KEY, version integer NOT NULL)`);
  await db.query(
    `INSERT INTO ${ident(schema)}._rebuild_start SELECT aggregate_id, version FROM ${READ_SCHEMA}.projection_streams
      WHERE $1::text[] IS NULL OR aggregate_type = ANY($1::text[])`,
    [family.streams ? [...family.streams] : null],
  );
}

async function capAtStart(db: Queryable, events: EventEnvelope[]): Promise<EventEnvelope[]> {
  const ids = [...new Set(events.map((e) => e.aggregate_id))];
  const { rows } = await db.query<{ aggregate_id: string; version: number }>(
    'SELECT aggregate_id, version FROM _rebuild_start WHERE aggregate_id = ANY($1)',
    [ids],
  );
  const cap = new Map(rows.map((r) => [r.aggregate_id, r.version]));
  return events.filter((e) => e.version <= (cap.get(e.aggregate_id) ?? 0));
}

interface Lag {
  aggregate_id: string;
  mine: number;
  live: number;
}

/** Streams the live projector has applied further than the copy. */
async function lagging(
  db: Queryable,
  schema: string,
  family: ProjectionFamily | undefined,
  parked: ReadonlyMap<string, ParkedHere>,
): Promise<Lag[]> {
  const { rows } = await db.query<Lag>(
    `SELECT l.aggregate_id, coalesce(r.version, 0) AS mine, l.version AS live
       FROM ${READ_SCHEMA}.projection_streams l LEFT JOIN ${ident(schema)}.projection_streams r USING (aggregate_id)
      WHERE l.version > coalesce(r.version, 0) AND ($1::text[] IS NULL OR l.aggregate_type = ANY($1::text[]))
      ORDER BY l.aggregate_id`,
    [family?.streams ? [...family.streams] : null],
  );
  // A stream the rebuild could not apply either stays where it stopped (its later events are held back live).
  return parked.size === 0 ? rows : rows.filter((r) => !parked.has(r.aggregate_id));
}

/** Reads each lagging stream's missing versions (up to the live one) and applies them; returns how many. */
async function applyTails(applier: BatchApplier, store: Pick<EventStore, 'readStream'>, behind: Lag[], batchSize: number): Promise<number> {
  let applied = 0;
  const READS_AT_ONCE = 16;
  let pending: EventEnvelope[] = [];
  for (let i = 0; i < behind.length; i += READS_AT_ONCE) {
    const tails = await Promise.all(
      behind
        .slice(i, i + READS_AT_ONCE)
        .map(async (s) =>
          (await store.readStream(s.aggregate_id, { afterVersion: s.mine, toVersion: s.live })).filter(
            (e) => e.version > s.mine && e.version <= s.live,
          ),
        ),
    );
    pending.push(...tails.flat());
    if (pending.length >= batchSize) {
      await applier.applyBatch(pending);
      applied += pending.length;
      pending = [];
    }
  }
  if (pending.length > 0) {
    await applier.applyBatch(pending);
    applied += pending.length;
  }
  return applied;
}

/**
 * The switch, in one transaction: live batches blocked (EXCLUSIVE on projection_streams, which every batch
 * locks first; readers are not blocked), the last tails applied, the live tables moved out and dropped, the
 * rebuilt ones moved in under the same names. A deadlock or lock timeout (a reader or a batch in the way)
 * rolls it back and it is tried again; the live tables are as they were until the commit.
 */
async function switchOver(args: {
  pool: pg.Pool;
  schema: string;
  id: string;
  swap: string[];
  family: ProjectionFamily | undefined;
  applier: BatchApplier;
  parked: Map<string, ParkedHere>;
  eventStore: Pick<EventStore, 'readStream'>;
  batchSize: number;
  log: (line: string) => void;
}): Promise<{ caught: number; unparked: string[] }> {
  const old = `read_old_${args.id}`;
  // A deadlock, or the 5 s lock_timeout on projection_streams: roll back and try the whole switch again.
  return retry(
    () =>
      inTransaction(
        args.pool,
        async (client) => {
          // parked_streams first, as a retry of a parked stream does (FOR UPDATE, then the stream's lock): no parking
          // or holding back while the switch settles the parked streams.
          if (!args.family) await client.query('LOCK TABLE public.parked_streams IN EXCLUSIVE MODE');
          await client.query(`LOCK TABLE ${READ_SCHEMA}.projection_streams IN EXCLUSIVE MODE`);
          const behind = await lagging(client, args.schema, args.family, args.parked);
          const caught = behind.length > 0 ? await applyTails(args.applier, args.eventStore, behind, args.batchSize) : 0;
          const unparked = args.family ? [] : await settleParked(client, args.applier, args.parked, args.log);
          await lockForSwitch(client, args.swap);
          await client.query(`CREATE SCHEMA ${ident(old)}`);
          for (const t of args.swap) {
            await client.query(`ALTER TABLE ${READ_SCHEMA}.${ident(t)} SET SCHEMA ${ident(old)}`);
            await client.query(`ALTER TABLE ${ident(args.schema)}.${ident(t)} SET SCHEMA ${READ_SCHEMA}`);
          }
          await client.query(`DROP SCHEMA ${ident(old)} CASCADE`);
          await client.query(`UPDATE public.ops_rebuilds SET status = 'switched', heartbeat_at = now() WHERE rebuild_id = $1`, [args.id]);
          return { caught, unparked };
        },
        { begin: "BEGIN; SET LOCAL lock_timeout = '5s'" },
      ).then((result) => {
        args.log(`rebuild ${args.id}: switched (${result.caught} events applied under the lock)`);
        return result;
      }),
    {
      attempts: SWITCH_ATTEMPTS,
      retryable: (err) => isPgConflict(err, ['40P01', '55P03']),
      delayMs: (attempt) => 200 * attempt,
      onRetry: (err, attempt) =>
        args.log(`rebuild ${args.id}: switch attempt ${attempt} gave way (${(err as Error).message}); trying again`),
    },
  );
}

/** Where the rebuild met a stream's failure: the stream is applied below `version` and held back from it on. */
export interface ParkedHere {
  error: string;
  event_id: string | null;
  event_type: string | null;
  version: number;
}

const errorText = (err: unknown) => (err instanceof Error ? `${err.name}: ${err.message}` : String(err)).slice(0, 4000);

/** The database or the connection failing (PostgreSQL classes 08, 40, 53, 57): never a stream's fault. */
const isTransient = (err: unknown): boolean => {
  const e = err as { code?: unknown; transient?: unknown } | null;
  if (e?.transient === true) return true;
  const code = typeof e?.code === 'string' ? e.code : '';
  return /^(08|40|53|57)/.test(code) || /^E(CONN|PIPE|TIMEDOUT|HOSTUNREACH|NETUNREACH)/.test(code);
};

/**
 * At most `limit` batches in PostgreSQL at once, however many scan segments deliver pages. `busyMs()`: how long
 * at least one batch was in PostgreSQL (the rest of a scan's time the appliers waited for pages).
 */
function gated(inner: BatchApplier, limit: number): BatchApplier & { busyMs(): number } {
  let active = 0;
  let busy = 0;
  let since = 0;
  const waiting: Array<() => void> = [];
  return {
    async applyBatch(events) {
      while (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
      if (active++ === 0) since = Date.now();
      try {
        return await inner.applyBatch(events);
      } finally {
        if (--active === 0) busy += Date.now() - since;
        waiting.shift()?.();
      }
    },
    busyMs: () => busy + (active > 0 ? Date.now() - since : 0),
  };
}

/**
 * A stream the live projector parked (src/composition/projections/parking.ts) does not fail the rebuild: rebuilding is often
 * how such a stream is fixed, after a code fix. A batch that fails is split: the streams not parked live must
 * apply (a failure there is this release's and fails the rebuild, live tables untouched); each parked stream is
 * applied alone, and if it fails again it is applied up to the event that fails and held back from there on
 * (`parked`), for the switch to carry the parking over (settleParked).
 */
function tolerateParked(inner: BatchApplier, pool: pg.Pool, parked: Map<string, ParkedHere>, log: (line: string) => void): BatchApplier {
  const held = (e: EventEnvelope) => {
    const at = parked.get(e.aggregate_id);
    return at !== undefined && e.version >= at.version;
  };
  async function applyWhatItCan(id: string, stream: EventEnvelope[]): Promise<void> {
    let rest = stream;
    for (let attempt = 1; rest.length > 0; attempt++) {
      try {
        await inner.applyBatch(rest);
        return;
      } catch (err) {
        if (isTransient(err) || attempt > 3) throw err;
        const at = err instanceof EventDataError && err.event.aggregate_id === id ? err.event : undefined;
        const version = Math.min(at?.version ?? Math.min(...rest.map((e) => e.version)), parked.get(id)?.version ?? Infinity);
        const event = at ?? rest.find((e) => e.version === version);
        parked.set(id, { error: errorText(err), event_id: event?.event_id ?? null, event_type: event?.event_type ?? null, version });
        log(
          `rebuild: stream ${id} (parked by the live projector) fails here too at version ${version}; applied up to it, held back from it: ${errorText(err)}`,
        );
        rest = rest.filter((e) => e.version < version);
      }
    }
  }
  return {
    async applyBatch(events) {
      const live = parked.size === 0 ? events : events.filter((e) => !held(e));
      if (live.length === 0) return;
      try {
        return await inner.applyBatch(live);
      } catch (err) {
        if (isTransient(err)) throw err;
        const ids = [...new Set(live.map((e) => e.aggregate_id))];
        const { rows } = await pool.query<{ aggregate_id: string }>(
          'SELECT aggregate_id FROM public.parked_streams WHERE aggregate_id = ANY($1::text[])',
          [ids],
        );
        if (rows.length === 0) throw err;
        const parkedLive = new Set(rows.map((r) => r.aggregate_id));
        const others = live.filter((e) => !parkedLive.has(e.aggregate_id));
        if (others.length > 0) await inner.applyBatch(others);
        for (const id of [...parkedLive].sort())
          await applyWhatItCan(
            id,
            live.filter((e) => e.aggregate_id === id),
          );
      }
    },
  };
}

/**
 * In the switch's transaction, public.parked_streams locked: a stream the rebuild could not apply stays parked
 * and its row says where the rebuild failed; a parked stream the rebuild applied gets the events held back
 * since it was parked, and if they apply too it is unparked (its parking rows deleted) — the rebuilt tables
 * now hold it whole. Returns the unparked streams.
 */
async function settleParked(
  client: pg.PoolClient,
  applier: BatchApplier,
  parked: Map<string, ParkedHere>,
  log: (line: string) => void,
): Promise<string[]> {
  const { rows } = await client.query<{ aggregate_id: string }>('SELECT aggregate_id FROM public.parked_streams ORDER BY aggregate_id');
  const stillParked = new Set(rows.map((r) => r.aggregate_id));
  for (const id of parked.keys()) {
    if (!stillParked.has(id)) throw new Error(`stream ${id} was unparked while the rebuild ran, but fails in the rebuild: rebuild again`);
  }
  const unparked: string[] = [];
  for (const { aggregate_id: id } of rows) {
    if (!parked.has(id)) {
      const { rows: heldRows } = await client.query<{ event: EventEnvelope }>(
        'SELECT event FROM public.parked_events WHERE aggregate_id = $1 ORDER BY version',
        [id],
      );
      if (heldRows.length > 0) await applier.applyBatch(heldRows.map((r) => r.event));
    }
    const here = parked.get(id);
    if (here) {
      await client.query(
        'UPDATE public.parked_streams SET error = $2, event_id = $3, event_type = $4, version = $5, attempts = attempts + 1, updated_at = now() WHERE aggregate_id = $1',
        [id, here.error, here.event_id, here.event_type, here.version],
      );
      continue;
    }
    await client.query('DELETE FROM public.parked_events WHERE aggregate_id = $1', [id]);
    await client.query('DELETE FROM public.parked_streams WHERE aggregate_id = $1', [id]);
    unparked.push(id);
  }
  if (unparked.length > 0) log(`rebuild: unparked ${unparked.length} streams the rebuild applied whole: ${unparked.join(', ')}`);
  return unparked;
}

/**
 * ACCESS EXCLUSIVE on every live table to be replaced, all at once, before any of them is moved. A reader's query
 * may hold one of them while it waits for another (a join): if the switch then waited, the two would deadlock
 * and PostgreSQL could pick the reader as the victim — an error in the shop. So the switch never waits long:
 * it tries with a lock_timeout well below deadlock_timeout (1 s), and on a timeout rolls back to the savepoint
 * (readers go on) and tries again a moment later, still holding the projection_streams lock.
 */
async function lockForSwitch(client: pg.PoolClient, tables: string[]): Promise<void> {
  const list = tables.map((t) => `${READ_SCHEMA}.${ident(t)}`).join(', ');
  await retry(
    async () => {
      await client.query('SAVEPOINT switch_locks');
      try {
        await client.query("SET LOCAL lock_timeout = '100ms'");
        await client.query(`LOCK TABLE ${list} IN ACCESS EXCLUSIVE MODE`);
        await client.query("SET LOCAL lock_timeout = '5s'");
      } catch (err) {
        await client.query('ROLLBACK TO SAVEPOINT switch_locks');
        throw err;
      }
    },
    { attempts: 40, retryable: (err) => pgCode(err) === '55P03', delayMs: () => 20 + Math.random() * 60 },
  );
}

export interface ProgressFigures {
  done: number;
  total?: number | undefined;
  elapsedMs: number;
}

/** Pure: rate (events/s), percentage and seconds left; the total is an estimate, so never below done. */
export function progressOf(p: ProgressFigures): { rate: number; percent: number | undefined; eta_seconds: number | undefined } {
  const rate = p.elapsedMs > 0 ? Math.round((p.done / p.elapsedMs) * 1000) : 0;
  if (p.total === undefined) return { rate, percent: undefined, eta_seconds: undefined };
  const total = Math.max(p.total, p.done);
  const percent = total === 0 ? 100 : Math.floor((p.done / total) * 100);
  const eta = rate > 0 ? Math.ceil((total - p.done) / rate) : undefined;
  return { rate, percent, eta_seconds: eta };
}

/** Pure: the command line's progress line. */
export function progressLine(id: string, projection: string, p: ProgressFigures): string {
  const { rate, percent, eta_seconds } = progressOf(p);
  const of = p.total === undefined ? '' : ` / ~${Math.max(p.total, p.done)} (${percent}%)`;
  const eta = eta_seconds === undefined ? '' : `, ETA ${eta_seconds} s`;
  return `rebuild ${id} [${projection}]: ${p.done}${of} events, ${rate} events/s${eta}`;
}

function startProgress(args: {
  pool: pg.Pool;
  id: string;
  projection: string;
  total: number | undefined;
  log: (line: string) => void;
  everyMs: number;
}) {
  const started = Date.now();
  let done = 0;
  let writing: Promise<unknown> = Promise.resolve();
  const figures = (): ProgressFigures => ({ done, total: args.total, elapsedMs: Date.now() - started });
  const write = () => {
    const f = figures();
    args.log(progressLine(args.id, args.projection, f));
    writing = args.pool
      .query(`UPDATE public.ops_rebuilds SET events_done = $2, events_per_second = $3, heartbeat_at = now() WHERE rebuild_id = $1`, [
        args.id,
        f.done,
        progressOf(f).rate,
      ])
      .catch(() => {});
  };
  const timer = setInterval(write, args.everyMs);
  timer.unref();
  return {
    add: (n: number) => void (done += n),
    done: () => done,
    status: async (status: string) => {
      await writing;
      await args.pool.query(`UPDATE public.ops_rebuilds SET status = $2, events_done = $3, heartbeat_at = now() WHERE rebuild_id = $1`, [
        args.id,
        status,
        done,
      ]);
    },
    stop: () => clearInterval(timer),
  };
}
