import type { Context } from 'hono';
import { z } from 'zod';
import { AppError, validationError } from '../shared/errors.ts';

/**
 * Reads and validates a JSON body. Malformed JSON, a wrong content type and schema violations are all 400
 * with field-level `errors[]`, so a client learns every problem at once and nothing is appended.
 */
export async function parseBody<S extends z.ZodType>(c: Context, schema: S, opts: { optional?: boolean } = {}): Promise<z.infer<S>> {
  const text = await c.req.text();
  if (text.trim() === '') {
    if (opts.optional) return validate(schema, {});
    throw validationError('request body is required (JSON)');
  }
  const type = c.req.header('content-type') ?? '';
  if (type && !/^application\/([\w.+-]+\+)?json\b/i.test(type)) {
    throw new AppError('validation', 'unsupported_media_type', `content-type must be application/json, got ${type}`);
  }
  if (text.length > MAX_JSON_CHARS) throw new AppError('too_large', 'body_too_large', `request body exceeds ${MAX_JSON_CHARS} characters`);
  const depth = nestingDepth(text);
  if (depth > MAX_JSON_DEPTH) throw validationError(`JSON nested ${depth} levels deep; at most ${MAX_JSON_DEPTH} are accepted`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw validationError(`malformed JSON: ${(err as Error).message}`);
  }
  if (hasLoneSurrogate(json))
    throw validationError('invalid body: text must be valid Unicode (a \\ud800-\\udfff escape without its pair is not)');
  return validate(schema, json);
}

/**
 * Bounds checked on the raw text, before JSON.parse and before anything walks the value: no request body of this
 * API nests deeper than 3, and every walker (validation, surrogate check, hashing, the event's JSON) must be
 * safe from a `[[[[…` that is small in bytes but deep. The size bound repeats the body-limit middleware's for
 * bodies that reach a parser another way.
 */
export const MAX_JSON_DEPTH = 16;
export const MAX_JSON_CHARS = 1024 * 1024;

/** The deepest nesting of arrays and objects in a JSON text, strings skipped; stops counting past the bound. */
export function nestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c)
        i++; // backslash: skip the escaped character
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x5b || ch === 0x7b) {
      depth++;
      if (depth > max) max = depth;
      if (max > MAX_JSON_DEPTH) return max;
    } else if (ch === 0x5d || ch === 0x7d) depth--;
  }
  return max;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * JSON can spell half a UTF-16 pair ("\ud800"), JavaScript holds it, DynamoDB stores it — and PostgreSQL's jsonb
 * refuses it, so the event would be dead-lettered by the projector and the read side would silently diverge.
 */
function hasLoneSurrogate(value: unknown): boolean {
  if (typeof value === 'string') return LONE_SURROGATE.test(value);
  if (Array.isArray(value)) return value.some(hasLoneSurrogate);
  if (value && typeof value === 'object') return Object.entries(value).some(([k, v]) => LONE_SURROGATE.test(k) || hasLoneSurrogate(v));
  return false;
}

const NoBody = z.object({});

/**
 * For commands that take no body (checkout, pay, deliver, deletes): none, or a JSON object whose fields are
 * ignored. Anything else is a client bug (a truncated or mistyped body) and must not run the command.
 */
export async function parseNoBody(c: Context): Promise<void> {
  await parseBody(c, NoBody, { optional: true });
}

export function validate<S extends z.ZodType>(schema: S, value: unknown, where = 'body'): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const errors = result.error.issues.map((issue) => ({
    field: issue.path.length ? issue.path.join('.') : where,
    message: issue.message,
  }));
  throw validationError(`invalid ${where}: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`, errors);
}
