import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';

const INIT_SQL = fileURLToPath(new URL('../../init.sql', import.meta.url));

/**
 * Applies an idempotent SQL file (IF NOT EXISTS / CREATE OR REPLACE) under one advisory lock, so processes
 * starting together never run DDL concurrently (concurrent CREATE … IF NOT EXISTS can still collide).
 */
export async function applySqlFile(pool: pg.Pool, file: string): Promise<void> {
  const sql = await readFile(file, 'utf8');
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock(727274)');
    await client.query(sql);
  } finally {
    await client.query('SELECT pg_advisory_unlock(727274)').catch(() => {});
    client.release();
  }
}

/** init.sql: docker compose runs it through the postgres image's entrypoint; every process applies it at start. */
export const applySchema = (pool: pg.Pool): Promise<void> => applySqlFile(pool, INIT_SQL);
