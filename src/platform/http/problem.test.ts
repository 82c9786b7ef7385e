import assert from 'node:assert/strict';
import { test } from 'node:test';
import { conflict } from '../shared/errors.ts';
import { toProblem } from './problem.ts';

test("a domain detail named like an RFC 9457 member (an order's status) never replaces it", () => {
  const problem = toProblem(
    conflict('illegal_transition', 'cannot pay an order that is cancelled', {
      order_id: 'o-1',
      status: 'cancelled',
      type: 'x',
      detail: 'y',
    }),
    '/orders/o-1/pay',
  );
  assert.equal(problem.status, 409);
  assert.equal(problem.type, 'https://ec-shop.local/problems/illegal-transition');
  assert.equal(problem.detail, 'cannot pay an order that is cancelled');
  assert.equal(problem.order_id, 'o-1');
});

test('an unexpected error is a 500 with a stable type and code and the request id, its stack only in the log', async () => {
  const { Hono } = await import('hono');
  const { onError } = await import('./problem.ts');
  const logged: Array<[string, Record<string, unknown> | undefined]> = [];
  const app = new Hono<{ Variables: { requestId: string } }>();
  app.use('*', async (c, next) => {
    c.set('requestId', 'req-1');
    await next();
  });
  app.get('/boom', () => {
    throw new Error('secret internals');
  });
  app.onError(onError({ error: (m, f) => logged.push([m, f]), info: (m, f) => logged.push([m, f]) }));
  const res = await app.request('/boom');
  assert.equal(res.status, 500);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  const body = (await res.json()) as Record<string, unknown>;
  assert.equal(body.type, 'https://ec-shop.local/problems/internal-error');
  assert.equal(body.code, 'internal_error');
  assert.equal(body.request_id, 'req-1');
  assert.ok(!JSON.stringify(body).includes('secret internals'));
  assert.equal(logged[0]?.[0], 'unhandled error');
  assert.match(String(logged[0]?.[1]?.error), /secret internals/);
});
