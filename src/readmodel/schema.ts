import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';

const INIT_SQL = fileURLToPath(new URL('../../init.sql', import.meta.url));

/**
 * Applies an idempotent SQL file (IF NOT EXISTS / CREATE OR REPLACE) under one advisory lock, so processes
 * starting together never run DDL concurrently (concurrent CREATE … IF NOT EXISTS can still collide).
 * `CREATE INDEX IF NOT EXISTS` takes a SHARE lock on its table even when the index exists, so a process
 * starting while projectors write can deadlock with a projector batch: the DDL runs in one transaction with a
 * lock timeout and is retried, instead of the process dying at start.
 */
export async function applySqlFile(pool: pg.Pool, file: string, opts: { attempts?: number } = {}): Promise<void> {
  const sql = await readFile(file, 'utf8');
  const attempts = opts.attempts ?? 8;
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    try {
      await client.query('SELECT pg_advisory_lock(727274)');
      await client.query('BEGIN');
      await client.query("SET LOCAL lock_timeout = '2s'");
      await client.query(sql);
      await client.query('COMMIT');
      return;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      const code = (err as { code?: string }).code;
      // 40P01 deadlock, 55P03 lock timeout: the schema is fine, a writer was in the way.
      if ((code !== '40P01' && code !== '55P03') || attempt >= attempts) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt + Math.random() * 200));
    } finally {
      await client.query('SELECT pg_advisory_unlock(727274)').catch(() => {});
      client.release();
    }
  }
}

/** init.sql: docker compose runs it through the postgres image's entrypoint; every process applies it at start. */
export const applySchema = (pool: pg.Pool): Promise<void> => applySqlFile(pool, INIT_SQL);
