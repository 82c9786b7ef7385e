/**
 * The two statements a table projection costs per batch: load the rows of every key the batch touches, and
 * upsert the rows that changed. Both are one statement whatever the batch size. Table names are unqualified
 * (search_path decides the schema) and come from code, never from input; they are still checked.
 */
import type { Queryable } from '../../platform/readmodel/db.ts';
import type { TableProjection } from '../../kernel/projection.ts';

const IDENT = /^[a-z_][a-z0-9_]*$/;
const ident = (name: string): string => {
  if (!IDENT.test(name)) throw new Error(`not a plain identifier: ${name}`);
  return name;
};

/** The current rows of `keys`, as JSON rows (row_to_json: ISO timestamps, jsonb values, numbers). */
export async function loadRows<Row>(db: Queryable, p: TableProjection<Row>, keys: readonly string[]): Promise<Map<string, Row>> {
  if (keys.length === 0) return new Map();
  const cols = p.columns.map((c) => ident(c)).join(', ');
  const { rows } = await db.query<{ r: Row }>(
    `SELECT row_to_json(x) AS r FROM (SELECT ${cols} FROM ${ident(p.table)} WHERE ${ident(p.key)} = ANY($1::text[])) x`,
    [keys],
  );
  return new Map(rows.map(({ r }) => [String((r as Record<string, unknown>)[p.key]), r]));
}

/**
 * One multi-row upsert, in key order (two projector instances writing overlapping keys lock them in the same
 * order). The version guard is a second line of defence: the engine writes only rows it loaded under the
 * stream lock in this transaction.
 */
export async function saveRows<Row>(db: Queryable, p: TableProjection<Row>, rows: readonly Row[]): Promise<void> {
  if (rows.length === 0) return;
  const table = ident(p.table);
  const key = ident(p.key);
  const cols = p.columns.map((c) => ident(c));
  const set = cols.filter((c) => c !== key).map((c) => `${c} = EXCLUDED.${c}`);
  const guard = cols.includes('version') ? `WHERE ${table}.version < EXCLUDED.version` : '';
  await db.query(
    `INSERT INTO ${table} (${cols.join(', ')})
     SELECT ${cols.join(', ')} FROM jsonb_populate_recordset(NULL::${table}, $1::jsonb) ORDER BY ${key}
     ON CONFLICT (${key}) DO UPDATE SET ${set.join(', ')} ${guard}`,
    [JSON.stringify(rows)],
  );
}
