import { Hono } from 'hono';
import { AppError } from '../../platform/shared/errors.ts';
import { requireAdmin, type AuthEnv } from '../../platform/http/auth.ts';
import type { HttpDeps } from '../../kernel/deps.ts';
import { notFound, validationError } from '../../platform/shared/errors.ts';
import { idParam, intQuery, strQuery } from '../../platform/http/params.ts';
import { probeRoutes } from '../../platform/shared/ops-server.ts';

/** Health, readiness, metrics, consumer lag, the saga log, marketing and the links the SPA shows. */
export function opsRoutes(deps: HttpDeps) {
  const q = deps.queries;
  return (
    new Hono<AuthEnv>()
      // Kafka is reported but not required for readiness: commands are accepted while it is down (the outbox covers it).
      .route('/', probeRoutes('api', deps.ops))
      .get('/ops/lag', async (c) => {
        requireAdmin(c);
        // Never an error: with the broker frozen or gone, the last report, marked stale, with its age.
        return c.json(await deps.ops.lag());
      })
      .get('/ops/dlq', async (c) => {
        requireAdmin(c);
        if (!deps.ops.dlq) throw new AppError('unavailable', 'dlq_unavailable', 'the dead-letter view is not available on this server');
        const summary = (await deps.ops.dlq()) as object;
        // ?list=1 adds the records themselves (reads the topic: slower than the counts).
        if (strQuery(c, 'list', 5) === undefined || !deps.ops.deadLetters) return c.json(summary);
        const status = strQuery(c, 'status', 20);
        if (status !== undefined && !['open', 'replayed', 'discarded'].includes(status)) {
          throw validationError('unknown status', [{ field: 'status', message: 'must be one of open, replayed, discarded' }]);
        }
        const limit = intQuery(c, 'limit', { min: 1, max: 500 }) ?? 100;
        return c.json({ ...summary, items: await deps.ops.deadLetters.list({ limit, ...(status ? { status: status as 'open' } : {}) }) });
      })
      .post('/ops/dlq/:id/replay', async (c) => {
        requireAdmin(c);
        if (!deps.ops.deadLetters)
          throw new AppError('unavailable', 'dlq_unavailable', 'dead-letter replay is not available on this server');
        return c.json(await deps.ops.deadLetters.replay(c.req.param('id')));
      })
      .get('/ops/parked', async (c) => {
        requireAdmin(c);
        if (!deps.ops.parked)
          throw new AppError('unavailable', 'parked_unavailable', 'the parked-stream view is not available on this server');
        return c.json({ items: await deps.ops.parked.list(intQuery(c, 'limit', { min: 1, max: 500 }) ?? 100) });
      })
      .post('/ops/parked/:aggregate_id/retry', async (c) => {
        requireAdmin(c);
        if (!deps.ops.parked)
          throw new AppError('unavailable', 'parked_unavailable', 'retrying parked streams is not available on this server');
        const id = idParam(c, 'aggregate_id');
        let done: Awaited<ReturnType<NonNullable<typeof deps.ops.parked>['retry']>>;
        try {
          done = await deps.ops.parked.retry(id);
        } catch (err) {
          if (err instanceof AppError) throw err;
          // Still failing: it stays parked; the answer says why (the fix is not in yet).
          throw new AppError('conflict', 'still_failing', `stream ${id} still fails to project: ${(err as Error).message}`);
        }
        if (!done) throw notFound('parked stream', id);
        return c.json({ aggregate_id: id, unparked: true, ...done });
      })
      .get('/ops/links', (c) => c.json(deps.ops.links))
      // Read-model rebuilds (`npm run rebuild`): progress of a running one (events done / total, rate, ETA), and the last ones.
      .get('/ops/rebuilds', async (c) => {
        requireAdmin(c);
        const limit = intQuery(c, 'limit', { min: 1, max: 100 });
        return c.json(await q.listRebuilds(limit ? { limit } : {}));
      })
      .get('/sagas', async (c) => {
        requireAdmin(c);
        const filters = {
          orderId: strQuery(c, 'order_id'),
          sagaId: strQuery(c, 'saga_id'),
          status: strQuery(c, 'status', 50),
          type: strQuery(c, 'type', 50),
          cursor: strQuery(c, 'cursor', 500),
        };
        const limit = intQuery(c, 'limit', { min: 1, max: 500 });
        return c.json(
          await q.listSagas({
            ...Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== undefined)),
            ...(limit ? { limit } : {}),
          }),
        );
      })
      .get('/sagas/:id', async (c) => {
        requireAdmin(c);
        const id = idParam(c, 'id');
        const saga = await q.getSaga(id);
        if (!saga) throw notFound('saga', id);
        return c.json(saga);
      })
      .get('/marketing/overview', async (c) => (requireAdmin(c), c.json(await q.marketingOverview())))
      .get(
        '/marketing/customers',
        async (c) => (
          requireAdmin(c),
          c.json({ items: await q.marketingCustomers({ limit: intQuery(c, 'limit', { min: 1, max: 100 }) ?? 20 }) })
        ),
      )
      .get(
        '/marketing/products',
        async (c) => (
          requireAdmin(c),
          c.json({ items: await q.marketingProducts({ limit: intQuery(c, 'limit', { min: 1, max: 100 }) ?? 20 }) })
        ),
      )
      .get(
        '/marketing/daily',
        async (c) => (
          requireAdmin(c),
          c.json({ items: await q.marketingDaily({ days: intQuery(c, 'days', { min: 1, max: 366 }) ?? 30 }) })
        ),
      )
      .get('/dashboard', async (c) => {
        requireAdmin(c);
        const [overview, statistics, customers, products, daily] = await Promise.all([
          q.marketingOverview(),
          q.orderStatistics(),
          q.marketingCustomers({ limit: 10 }),
          q.marketingProducts({ limit: 10 }),
          q.marketingDaily({ days: 30 }),
        ]);
        return c.json({ overview, statistics, top_customers: customers, popular_products: products, daily_sales: daily });
      })
  );
}
