import type { Context } from 'hono';
import { notFound, validationError } from '../shared/errors.ts';
import { ID_PATTERN, UUID_PATTERN } from '../shared/validate.ts';

const ID = ID_PATTERN;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Path ids become DynamoDB and Kafka keys: anything that is not a plausible id is a 400, not a lookup. */
export function idParam(c: Context, name: string): string {
  const value = c.req.param(name);
  if (!value || !ID.test(value))
    throw validationError(`invalid ${name}: must be 1..128 letters, digits or _.:@-`, [{ field: name, message: 'invalid id' }]);
  return value;
}

/**
 * The id of an aggregate the application names by a UUID (products, orders, categories, users). Stream ids of
 * every kind share one key space (`cart-…`, `inventory-…`, `user-email:…`), so a plausible id of another shape
 * is answered "not found" at the edge without a read: it cannot be one of these. A malformed one is a 400.
 */
export function entityId(value: string, what: string): string {
  if (!UUID_PATTERN.test(value)) throw notFound(what, value);
  return value;
}

export function entityIdParam(c: Context, name: string, what: string): string {
  return entityId(idParam(c, name), what);
}

/** An optional non-negative integer query parameter (limit, min_version, days). */
export function intQuery(c: Context, name: string, opts: { min?: number; max?: number } = {}): number | undefined {
  const raw = c.req.query(name);
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  const min = opts.min ?? 0;
  const max = opts.max ?? Number.MAX_SAFE_INTEGER;
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    throw validationError(`invalid ${name}: must be an integer in [${min}, ${max}]`, [
      { field: name, message: `must be an integer in [${min}, ${max}]` },
    ]);
  }
  return value;
}

/** An optional short string query parameter (q, category, cursor). */
export function strQuery(c: Context, name: string, max = 200): string | undefined {
  const raw = c.req.query(name);
  if (raw === undefined || raw === '') return undefined;
  if (raw.length > max)
    throw validationError(`invalid ${name}: at most ${max} characters`, [{ field: name, message: `at most ${max} characters` }]);
  // PostgreSQL text cannot hold NUL (the query would fail with a 500), and no search term or id needs one.
  if (CONTROL.test(raw))
    throw validationError(`invalid ${name}: control characters are not allowed`, [
      { field: name, message: 'must not contain control characters' },
    ]);
  return raw;
}
