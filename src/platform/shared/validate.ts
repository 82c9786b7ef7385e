/**
 * Pure field validators shared by the deciders. Each returns a FieldError or null so a command can report
 * every broken field at once (`ensure(...)` throws one validation AppError carrying them all). They take
 * `unknown` because command fields may come straight from JSON: the HTTP edge validates too, but the domain
 * rule is the authority and must not trust its caller's types.
 */
import type { FieldError } from './errors.ts';
import { validationError } from './errors.ts';

export type Check = FieldError | null;

export const ensure = (...checks: Check[]): void => {
  const errors = checks.filter((c): c is FieldError => c !== null);
  if (errors.length > 0) {
    throw validationError(errors.map((e) => `${e.field}: ${e.message}`).join('; '), errors);
  }
};

/** Length in code points, so a kanji or an emoji counts as one character, as a person would count it. */
export const textLength = (s: string): number => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

/** Trims strings and leaves anything else alone (it is then rejected by the check that follows). */
export const trimmed = <T>(value: T): T => (typeof value === 'string' ? (value.trim() as T) : value);

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
// eslint-disable-next-line no-control-regex
const CONTROL_EXCEPT_NEWLINE_TAB = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/**
 * A single-line text of min..max characters. Control characters are refused: names end up in mail headers
 * and subjects (the notifier), where a newline is a header-injection vector.
 */
export const singleLine = (field: string, value: unknown, min: number, max: number): Check => {
  if (typeof value !== 'string') return { field, message: 'must be a string' };
  const len = textLength(value);
  if (len < min || len > max) {
    return { field, message: min === 0 ? `must be at most ${max} characters` : `must be ${min}..${max} characters` };
  }
  if (CONTROL.test(value)) return { field, message: 'must not contain control characters' };
  return null;
};

/** A free text (newlines and tabs allowed) of at most max characters; may be empty. */
export const multiLine = (field: string, value: unknown, max: number): Check => {
  if (typeof value !== 'string') return { field, message: 'must be a string' };
  if (textLength(value) > max) return { field, message: `must be at most ${max} characters` };
  if (CONTROL_EXCEPT_NEWLINE_TAB.test(value)) return { field, message: 'must not contain control characters' };
  return null;
};

export const intInRange = (field: string, value: unknown, min: number, max: number): Check =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max
    ? null
    : { field, message: `must be an integer between ${min} and ${max}` };

export const oneOf = <T extends string>(field: string, value: unknown, allowed: readonly T[]): Check =>
  typeof value === 'string' && (allowed as readonly string[]).includes(value)
    ? null
    : { field, message: `must be one of ${allowed.join(', ')}` };

export const pattern = (field: string, value: unknown, re: RegExp, what: string): Check =>
  typeof value === 'string' && re.test(value) ? null : { field, message: `must be ${what}` };

/** Identifiers (UUIDs in practice) become DynamoDB keys and Kafka keys: keep them short and printable. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$/;
export const id = (field: string, value: unknown): Check => pattern(field, value, ID_PATTERN, 'an id of 1..128 letters, digits or _.:@-');

/** The ids the application draws (crypto.randomUUID): products, orders, categories, users. Lower case. */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-](\d{2}):(\d{2}))$/;

/**
 * Whether the fields of an ISO-8601 date-time name a real moment. Date.parse is lenient where PostgreSQL is not:
 * it turns 2024-02-31 into March 2nd, and accepts year 0000, which timestamptz rejects (there is no year 0) —
 * either way a value that is not what the client wrote, or a database error instead of a 400.
 */
export function isRealDateTime(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  offsetHours = 0,
  offsetMinutes = 0,
): boolean {
  if (year < 1 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59 || offsetHours > 23 || offsetMinutes > 59)
    return false;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return day <= daysInMonth;
}

/** Milliseconds since the epoch of an ISO-8601 instant with an explicit offset, or NaN. Pure: no clock read. */
export const instantMs = (value: unknown): number => {
  if (typeof value !== 'string') return Number.NaN;
  const m = ISO_INSTANT.exec(value);
  if (!m) return Number.NaN;
  const [y, mo, d, h, mi, sec, , , oh, om] = m
    .slice(1)
    .map((part) => (part === undefined ? 0 : Number(part.replace(/^\./, '')))) as number[];
  return isRealDateTime(y!, mo!, d!, h!, mi!, sec!, oh, om) ? Date.parse(value) : Number.NaN;
};

export const isoInstant = (field: string, value: unknown): Check =>
  Number.isNaN(instantMs(value)) ? { field, message: 'must be an ISO-8601 date-time with offset, e.g. 2024-10-18T12:30:00Z' } : null;

/**
 * `now` is supplied by the application's clock, never by a user: a bad one is a programming error (500),
 * not a validation error (400). Returns its epoch milliseconds.
 */
export const nowMs = (now: unknown): number => {
  const ms = instantMs(now);
  if (Number.isNaN(ms)) throw new TypeError(`command.now must be an ISO-8601 instant, got ${JSON.stringify(now)}`);
  return ms;
};
