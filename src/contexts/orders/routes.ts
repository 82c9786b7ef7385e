import { Hono } from 'hono';
import { z } from 'zod';
import { notFound } from '../../platform/shared/errors.ts';
import { requireAdmin, requireUser, type AuthEnv, type Principal } from '../../platform/http/auth.ts';
import { runCommand } from '../../kernel/command.ts';
import type { HttpDeps } from '../../kernel/deps.ts';
import { entityIdParam, intQuery, strQuery } from '../../platform/http/params.ts';
import { parseBody, parseNoBody } from '../../platform/http/validate.ts';

const Cancel = z.object({ reason: z.string().max(10_000) });
const Ship = z.object({ tracking_number: z.string().max(1000) });
/** The request bodies as a client may send them (checked against the SPA's types in api-types.conformance.ts). */
export type CancelBody = z.input<typeof Cancel>;
export type ShipBody = z.input<typeof Ship>;

export function orderRoutes(deps: HttpDeps) {
  const { orders, executor, newId } = deps.app;
  const list = async (c: Parameters<typeof requireUser>[0], user: Principal, status?: string) => {
    const limit = intQuery(c, 'limit', { min: 1, max: 100 });
    const cursor = strQuery(c, 'cursor', 500);
    // Admins see every order; a customer only their own (`?mine=1` lets an admin see just theirs).
    const all = user.role === 'admin' && c.req.query('mine') === undefined;
    return deps.queries.listOrders({
      ...(all ? {} : { userId: user.user_id }),
      ...(status ? { status } : {}),
      ...(limit ? { limit } : {}),
      ...(cursor ? { cursor } : {}),
    });
  };
  return new Hono<AuthEnv>()
    .post('/orders', async (c) => {
      const user = requireUser(c);
      await parseNoBody(c);
      return runCommand(c, executor, orders.checkout, { user, order_id: newId() }, 201);
    })
    .get('/orders', async (c) => {
      const user = requireUser(c);
      return c.json(await list(c, user, strQuery(c, 'status', 50)));
    })
    .get('/orders/statistics', async (c) => {
      requireAdmin(c);
      return c.json(await deps.queries.orderStatistics());
    })
    .get('/orders/status/:status', async (c) => {
      const user = requireUser(c);
      return c.json(await list(c, user, c.req.param('status')));
    })
    .get('/orders/:id', async (c) => {
      const user = requireUser(c);
      const id = entityIdParam(c, 'id', 'order');
      await deps.waits.forVersion(c, id);
      const order = await deps.queries.getOrder(id);
      // Someone else's order is "not found": ids are not secrets, but their existence is nobody's business.
      if (!order || (user.role !== 'admin' && order.user_id !== user.user_id)) throw notFound('order', id);
      return c.json(order);
    })
    .post('/orders/:id/pay', async (c) => {
      const user = requireUser(c);
      const id = entityIdParam(c, 'id', 'order');
      await parseNoBody(c);
      return runCommand(c, executor, orders.pay, { user, order_id: id }, 200);
    })
    .post('/orders/:id/cancel', async (c) => {
      const user = requireUser(c);
      const id = entityIdParam(c, 'id', 'order');
      const body = await parseBody(c, Cancel);
      return runCommand(c, executor, orders.cancel, { who: user, order_id: id, reason: body.reason }, 200);
    })
    .post('/orders/:id/ship', async (c) => {
      requireAdmin(c);
      const id = entityIdParam(c, 'id', 'order');
      const body = await parseBody(c, Ship);
      return runCommand(c, executor, orders.ship, { order_id: id, tracking_number: body.tracking_number }, 200);
    })
    .post('/orders/:id/deliver', async (c) => {
      requireAdmin(c);
      const id = entityIdParam(c, 'id', 'order');
      await parseNoBody(c);
      return runCommand(c, executor, orders.deliver, { order_id: id }, 200);
    });
}
