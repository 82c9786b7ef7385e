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

/** A request whose client went away before its body arrived (hono/node-server's ECONNRESET "aborted"). */
function clientGone(err: Error, c: Context): boolean {
  const incoming = (c.env as { incoming?: { aborted?: boolean; destroyed?: boolean } } | undefined)?.incoming;
  return incoming?.aborted === true || (incoming?.destroyed === true && (err as { code?: string }).code === 'ECONNRESET');
}

export interface ErrorLog {
  error: (message: string, fields?: Record<string, unknown>) => void;
  info: (message: string, fields?: Record<string, unknown>) => void;
}

/**
 * hono onError: known errors become their problem; a client that hung up is a note, not an error (nobody reads
 * the answer); anything else is a 500 with a stable type and code that reveals nothing internal and names the
 * request id, under which the stack was logged.
 */
export function onError(log: ErrorLog) {
  return (err: Error, c: Context): Response => {
    if (err instanceof AppError) {
      const retryAfter =
        (err.kind === 'rate_limited' || err.kind === 'unavailable') && typeof err.extra?.retry_after === 'number'
          ? err.extra.retry_after
          : undefined;
      return problemResponse(c, toProblem(err, c.req.path), retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) });
    }
    const status = (err as { status?: number }).status;
    if (status === 413)
      return problemResponse(c, toProblem(new AppError('too_large', 'body_too_large', 'request body is too large'), c.req.path));
    const requestId = (c.get as (key: string) => unknown)('requestId');
    if (clientGone(err, c)) {
      log.info('client disconnected before the request was complete', { path: c.req.path, method: c.req.method, request_id: requestId });
      // 499 (as nginx logs it): the request log shows what happened; the client is no longer there to read it.
      return problemResponse(c, {
        type: 'https://ec-shop.local/problems/client-disconnected',
        title: 'Client closed request',
        status: 499,
        detail: 'the client disconnected before the request body was complete',
        code: 'client_disconnected',
      });
    }
    log.error('unhandled error', { path: c.req.path, method: c.req.method, request_id: requestId, error: err.stack ?? String(err) });
    return problemResponse(c, {
      type: 'https://ec-shop.local/problems/internal-error',
      title: 'Internal Server Error',
      status: 500,
      detail: 'an unexpected error occurred; it has been logged with this request id',
      code: 'internal_error',
      instance: c.req.path,
      ...(typeof requestId === 'string' ? { request_id: requestId } : {}),
    });
  };
}
