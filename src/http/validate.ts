import type { Context } from 'hono';
import type { z } from 'zod';
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
  return validate(schema, json);
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
