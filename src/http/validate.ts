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
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw validationError(`malformed JSON: ${(err as Error).message}`);
  }
  if (hasLoneSurrogate(json)) throw validationError('invalid body: text must be valid Unicode (a \\ud800-\\udfff escape without its pair is not)');
  return validate(schema, json);
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
