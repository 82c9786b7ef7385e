import assert from 'node:assert/strict';
import { test } from 'node:test';
import { conflict } from '../shared/errors.ts';
import { toProblem } from './problem.ts';

test("a domain detail named like an RFC 9457 member (an order's status) never replaces it", () => {
  const problem = toProblem(conflict('illegal_transition', 'cannot pay an order that is cancelled', { order_id: 'o-1', status: 'cancelled', type: 'x', detail: 'y' }), '/orders/o-1/pay');
  assert.equal(problem.status, 409);
  assert.equal(problem.type, 'https://ec-shop.local/problems/illegal-transition');
  assert.equal(problem.detail, 'cannot pay an order that is cancelled');
  assert.equal(problem.order_id, 'o-1');
});
