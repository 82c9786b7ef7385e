import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { applySqlFile } from '../../platform/readmodel/schema.ts';

const WORKER_SQL = fileURLToPath(new URL('./schema.sql', import.meta.url));

/**
 * The worker's own tables (timers), outside the read_model family so a rebuild leaves them alone. The
 * processes get them from migration 001 (a frozen copy of this file); tests use this to make them in a schema
 * of their own. A change to them is a new migration, then this file follows.
 */
export const applyWorkerSchema = (pool: pg.Pool): Promise<void> => applySqlFile(pool, WORKER_SQL);
