import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import pg from 'pg';

const MIGRATIONS_DIR = fileURLToPath(new URL('../../../migrations', import.meta.url));

/** The schema of the projection family's tables (migration 002); a rebuild switches a new copy in under this name. */
export const READ_SCHEMA = 'read_model';
/** What every session of the shop resolves unqualified table names with. */
export const SEARCH_PATH = `${READ_SCHEMA}, public`;
/** node-pg-migrate's history table (public.schema_migrations). */
export const MIGRATIONS_TABLE = 'schema_migrations';

export interface MigrateResult {
  /** Migrations applied now, in order (empty: the database was up to date). */
  applied: string[];
  /** The database had the shop's tables but no migration history (created by init.sql): 001 adopted it. */
  baseline: boolean;
}

/**
 * Applies the pending numbered migrations (migrations/NNN_*.sql, node-pg-migrate), each recorded in
 * public.schema_migrations, all in one transaction. node-pg-migrate holds an advisory lock for the run (mode
 * `wait`), so processes starting together queue: the first migrates, the others find nothing to do. A database
 * made by the old init.sql has tables but no history: 001 is idempotent (IF NOT EXISTS, columns added only where
 * missing), so it runs as a no-op on it, is recorded, and the later migrations go on from there; no data moves
 * except what a migration says.
 *
 * Runs on a client of its own (not one of the pool's), so the pool's sessions start after the migration with
 * the database's search_path (002 sets it).
 */
export async function migrate(pool: pg.Pool, opts: { log?: (line: string) => void } = {}): Promise<MigrateResult> {
  const log = opts.log ?? (() => {});
  const { max: _max, ...connection } = pool.options as pg.PoolConfig;
  void _max;
  const client = new pg.Client({ ...connection, options: '-c search_path=public' } as pg.ClientConfig);
  await client.connect();
  try {
    const { rows } = await client.query<{ history: boolean; tables: boolean }>(
      `SELECT to_regclass('public.${MIGRATIONS_TABLE}') IS NOT NULL AS history,
              (to_regclass('public.sent_emails') IS NOT NULL OR to_regclass('public.read_orders') IS NOT NULL) AS tables`,
    );
    const baseline = !rows[0]!.history && rows[0]!.tables;
    if (baseline) log('schema without migration history (created by init.sql): adopting it as 001_baseline');
    const ran = await runner({
      dbClient: client,
      dir: MIGRATIONS_DIR,
      direction: 'up',
      migrationsTable: MIGRATIONS_TABLE,
      migrationsSchema: 'public',
      schema: 'public',
      checkOrder: true,
      advisoryLockMode: 'wait',
      singleTransaction: true,
      logger: { debug: () => {}, info: () => {}, warn: (m: string) => log(m), error: (m: string) => log(m) },
    });
    const applied = ran.map((m) => m.name);
    if (applied.length > 0) log(`migrations applied: ${applied.join(', ')}`);
    return { applied, baseline };
  } finally {
    await client.end();
  }
}

/** Every process migrates at start (src/processes/infra.ts connectReadDb); tests call this on their own databases. */
export const applySchema = async (pool: pg.Pool): Promise<void> => {
  await migrate(pool);
};
