/** Conversions from pg's JS types to the API's JSON: ISO-8601 strings and plain numbers. */

export const iso = (value: Date | string | null | undefined): string | null =>
  value === null || value === undefined ? null : value instanceof Date ? value.toISOString() : new Date(value).toISOString();

/** bigint and numeric arrive as strings (pg cannot know they fit a JS number); yen totals do. */
export const num = (value: number | string | null | undefined): number => (value === null || value === undefined ? 0 : Number(value));

/**
 * A timestamptz as an exact, sortable cursor component. Cursors carry the database's own text rendering
 * (microseconds) rather than a JS Date (milliseconds), so keyset comparisons never skip or repeat a row.
 */
export const exactTime = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
