import type { MiddlewareHandler } from 'hono';
import type { Logger } from '../shared/log.ts';

/**
 * One log line per request once it is answered: method, path (never the query string, which may carry
 * cursors or ids a user typed), status, duration, request id, and the caller's user id when authenticated.
 * Never headers or bodies: they carry passwords and tokens. 5xx are errors, everything else info.
 */
export function requestLog(log: Logger): MiddlewareHandler<{ Variables: { requestId: string; user: { user_id: string } | undefined } }> {
  return async (c, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      const status = c.res.status;
      const fields = {
        method: c.req.method,
        path: c.req.path,
        status,
        duration_ms: Math.round((performance.now() - started) * 10) / 10,
        request_id: c.get('requestId'),
        ...(c.get('user') ? { user_id: c.get('user')!.user_id } : {}),
      };
      if (status >= 500) log.error('request', fields);
      else log.info('request', fields);
    }
  };
}
