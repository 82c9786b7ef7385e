import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { AppError, type ErrorKind } from '../shared/errors.ts';

/** The one place where error kinds become HTTP statuses (RFC 9457 problem details). */
const STATUS: Record<ErrorKind, ContentfulStatusCode> = {
  validation: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  concurrency: 409,
  too_large: 413,
  rate_limited: 429,
  unavailable: 503,
};

const TITLE: Record<ErrorKind, string> = {
  validation: 'Invalid request',
  unauthorized: 'Authentication required',
  forbidden: 'Forbidden',
  not_found: 'Not found',
  conflict: 'Conflict',
  concurrency: 'Concurrent modification',
  too_large: 'Payload too large',
  rate_limited: 'Too many requests',
  unavailable: 'Service unavailable',
};

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code?: string;
  instance?: string;
  [key: string]: unknown;
}

export function toProblem(err: AppError, instance?: string): Problem {
  // Extras first: a domain detail named like a member of RFC 9457 (e.g. an order's `status`) must never
  // replace it, or the response would go out with that value as its HTTP status.
  return {
    ...(err.extra ?? {}),
    type: `https://ec-shop.local/problems/${err.code.replaceAll('_', '-')}`,
    title: TITLE[err.kind],
    status: STATUS[err.kind],
    detail: err.message,
    code: err.code,
    ...(instance ? { instance } : {}),
    ...(err.errors ? { errors: err.errors } : {}),
  };
}

export function problemResponse(c: Context, problem: Problem, headers: Record<string, string> = {}): Response {
  return c.body(JSON.stringify(problem), problem.status as ContentfulStatusCode, {
    'content-type': 'application/problem+json; charset=utf-8',
    ...headers,
  });
}

/** hono onError: known errors become their problem; anything else is a 500 that reveals nothing internal. */
export function onError(log: (message: string, fields?: Record<string, unknown>) => void) {
  return (err: Error, c: Context): Response => {
    if (err instanceof AppError) {
      const headers: Record<string, string> = err.kind === 'rate_limited' && typeof err.extra?.retry_after === 'number' ? { 'retry-after': String(err.extra.retry_after) } : {};
      return problemResponse(c, toProblem(err, c.req.path), headers);
    }
    const status = (err as { status?: number }).status;
    if (status === 413) return problemResponse(c, toProblem(new AppError('too_large', 'body_too_large', 'request body is too large'), c.req.path));
    log('unhandled error', { path: c.req.path, method: c.req.method, error: err.stack ?? String(err) });
    return problemResponse(c, {
      type: 'about:blank',
      title: 'Internal Server Error',
      status: 500,
      detail: 'an unexpected error occurred; it has been logged',
      instance: c.req.path,
    });
  };
}
