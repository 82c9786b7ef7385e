import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';

const INIT_SQL = fileURLToPath(new URL('../../init.sql', import.meta.url));

/**
 * Applies init.sql (every statement is idempotent: IF NOT EXISTS / CREATE OR REPLACE). docker compose runs the
 * same file through the postgres image's entrypoint; processes apply it at startup so a fresh embedded
 * database works too. An advisory lock keeps concurrently starting processes from racing on DDL.
 */
export async function applySchema(pool: pg.Pool): Promise<void> {
  const sql = await readFile(INIT_SQL, 'utf8');
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock(727274)');
    await client.query(sql);
  } finally {
    await client.query('SELECT pg_advisory_unlock(727274)').catch(() => {});
    client.release();
  }
}
