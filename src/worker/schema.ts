import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { applySqlFile } from '../readmodel/schema.ts';

const WORKER_SQL = fileURLToPath(new URL('./schema.sql', import.meta.url));

/** The worker's own tables (timers), kept out of init.sql's read_* family so a rebuild leaves them alone. */
export const applyWorkerSchema = (pool: pg.Pool): Promise<void> => applySqlFile(pool, WORKER_SQL);
