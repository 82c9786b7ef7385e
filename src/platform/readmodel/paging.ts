import { validationError } from '../shared/errors.ts';
import { instantMs } from '../shared/validate.ts';

/**
 * Keyset pagination. A cursor is opaque to clients (base64url of JSON) and tagged with the listing it belongs
 * to, so a products cursor replayed against orders is a 400, not a silently wrong page. Positions are the sort
 * key of the last row served, never an offset: rows inserted meanwhile cannot shift a page or repeat a row.
 */
export type CursorValue = string | number;

/**
 * What each position of a cursor must hold. A cursor is client input: its parts are checked as strictly as the
 * SQL that receives them (a timestamptz cast, a uuid cast, an integer column, text without NUL), so a forged
 * cursor is a 400, never a database error.
 */
export type CursorPart = 'string' | 'number' | 'time' | 'uuid';

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const isPart = (type: CursorPart, value: unknown): boolean => {
  switch (type) {
    case 'number':
      return Number.isSafeInteger(value) && (value as number) >= 0 && (value as number) <= 2_147_483_647;
    case 'string':
      return typeof value === 'string' && value.length <= 200 && !CONTROL.test(value);
    case 'time':
      // instantMs refuses what timestamptz would (year 0, 2024-02-31): a forged cursor is a 400, not a 500.
      return typeof value === 'string' && TIME.test(value) && !Number.isNaN(instantMs(value));
    case 'uuid':
      return typeof value === 'string' && UUID.test(value);
  }
};

export const encodeCursor = (kind: string, values: readonly CursorValue[]): string =>
  Buffer.from(JSON.stringify([kind, ...values]), 'utf8').toString('base64url');

export function decodeCursor(kind: string, cursor: string, shape: readonly CursorPart[]): CursorValue[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const ok =
    Array.isArray(parsed) &&
    parsed.length === shape.length + 1 &&
    parsed[0] === kind &&
    shape.every((type, i) => isPart(type, parsed[i + 1]));
  if (!ok) throw validationError('invalid cursor', [{ field: 'cursor', message: 'is not a cursor returned by this listing' }]);
  return (parsed as CursorValue[]).slice(1);
}

/** A page size: absent → `fallback`; above `max` → `max`; anything but a positive integer → 400. */
export function pageLimit(limit: number | undefined, fallback = 20, max = 100): number {
  if (limit === undefined) return fallback;
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw validationError('invalid limit', [{ field: 'limit', message: `must be an integer between 1 and ${max}` }]);
  }
  return Math.min(limit, max);
}

export interface Page<T> {
  items: T[];
  /** Pass back as `cursor` for the next page; null when this page is the last. */
  next_cursor: string | null;
}

/**
 * Builds a page from `limit + 1` fetched rows: the extra row only tells whether another page exists, so the
 * last page says so itself instead of costing the client one more empty request.
 */
export function toPage<R, T>(rows: readonly R[], limit: number, map: (row: R) => T, cursorOf: (row: R) => string): Page<T> {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items: items.map(map), next_cursor: rows.length > limit && last !== undefined ? cursorOf(last) : null };
}
