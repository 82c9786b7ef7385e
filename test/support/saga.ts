/**
 * The vocabulary of the fulfilment saga's end-to-end tests (test/e2e/saga*.test.ts), over an isolated shop.
 */
import assert from 'node:assert/strict';
import { eventually } from './http.ts';
import type { IsolatedShop } from './isolated.ts';
import { mailsAbout, waitForMails, type Customer } from './shop.ts';

/** Generous: CI is a loaded 2-core machine. */
const SETTLE_MS = 150_000;

export interface Placed {
  order_id: string;
  total: number;
  customer: Customer;
}

/**
 * A command that lost the optimistic-concurrency race too often answers 409 concurrency_conflict ("retry the
 * request"): the saga's own writes (StockReturned) contend for the same inventory streams as checkouts.
 * A client retries it; so does this one, a few times.
 */
export async function retried(call: () => Promise<any>, expected: number): Promise<any> {
  for (let attempt = 1; ; attempt++) {
    const res = await call();
    if (res.status === expected || res.body?.code !== 'concurrency_conflict' || attempt === 5) {
      assert.equal(res.status, expected, JSON.stringify(res.body));
      return res.body;
    }
  }
}

/** `shop` is read when a helper runs (the shop is started in a before hook). */
export function sagaHelpers(shop: () => IsolatedShop) {
  /** Replaces the running worker(s) by one with these settings (on top of the shop's). */
  async function useWorker(env: Record<string, string>): Promise<void> {
    const running = shop().shop.processes.filter(
      (p) => p.name.startsWith('worker') && p.child.exitCode === null && p.child.signalCode === null,
    );
    await Promise.all(running.map((p) => p.stop(10_000)));
    shop().shop.spawn('worker', env);
  }

  /** `n` orders over `customers` (each customer's orders one after the other: one cart each), all paid. */
  async function paidOrders(n: number, customers: Customer[], lines: Array<[productId: string, quantity: number]>): Promise<Placed[]> {
    const out: Placed[] = [];
    const { http } = shop().a;
    const lanes = await Promise.allSettled(
      customers.map(async (customer, c) => {
        for (let i = c; i < n; i += customers.length) {
          for (const [productId, quantity] of lines) await shop().a.addToCart(customer.token, productId, quantity);
          const order = await retried(() => http.post('/orders', undefined, customer.token), 201);
          await retried(() => http.post(`/orders/${order.order_id}/pay`, undefined, customer.token), 200);
          out.push({ order_id: order.order_id, total: order.total, customer });
        }
      }),
    );
    // allSettled: a failed lane must not leave the others placing orders into the next test.
    const failed = lanes.find((l): l is PromiseRejectedResult => l.status === 'rejected');
    if (failed) throw failed.reason;
    return out;
  }

  /** Waits until every order has ended its saga (shipped or compensated), then returns the orders as the API shows them. */
  async function settled(orders: Placed[], what: string): Promise<any[]> {
    return eventually(
      async () => {
        const shown = await Promise.all(orders.map((o) => shop().a.http.get(`/orders/${o.order_id}`, shop().admin)));
        // Both writers caught up: the worker's saga log and the projector's order row (two consumer groups).
        const done = shown.filter(
          (r) => ['completed', 'compensated'].includes(r.body?.fulfilment?.status) && !['pending', 'paid'].includes(r.body?.status),
        );
        return done.length === orders.length ? shown.map((r) => r.body) : undefined;
      },
      { what, timeoutMs: SETTLE_MS, intervalMs: 500 },
    );
  }

  const stats = async () => (await shop().a.http.get('/orders/statistics', shop().admin)).body;
  const overview = async () => (await shop().a.http.get('/marketing/overview', shop().admin)).body;
  const todayRevenue = async () => {
    const days = (await shop().a.http.get('/marketing/daily?days=2', shop().admin)).body.items as Array<{ day: string; revenue: number }>;
    return days.reduce((n, d) => n + d.revenue, 0);
  };
  const sagaOf = async (orderId: string) => {
    const res = await shop().a.http.get(`/sagas?order_id=${orderId}&type=fulfilment`, shop().admin);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.items[0];
  };
  const steps = (saga: any) => (saga?.steps ?? []).map((s: any) => s.step);
  /**
   * The saga once the log shows `check`: its steps come from events of several streams (order, shipment, every
   * line's inventory), which reach the worker on different partitions, so a finished saga's last steps may land
   * a moment after its status.
   */
  const sagaWhen = (orderId: string, check: (saga: any) => boolean, what: string) =>
    eventually(
      async () => {
        const saga = await sagaOf(orderId);
        return saga && check(saga) ? saga : undefined;
      },
      { what, timeoutMs: 60_000, intervalMs: 250 },
    );

  async function customers(n: number): Promise<Customer[]> {
    return Promise.all(Array.from({ length: n }, (_, i) => shop().a.customer(`配送 ${i}`)));
  }

  /** Mails about each order, once every order has the expected kind. */
  async function mailsFor(orders: Placed[], kind: string) {
    const byCustomer = new Map<string, Placed[]>();
    for (const o of orders) byCustomer.set(o.customer.email, [...(byCustomer.get(o.customer.email) ?? []), o]);
    const all = await Promise.all(
      [...byCustomer].map(([email, mine]) =>
        waitForMails(email, (m) => mine.every((o) => mailsAbout(m, o.order_id, kind).length > 0), `${kind} mail for ${mine.length} orders`),
      ),
    );
    return all.flat();
  }

  return { useWorker, paidOrders, settled, stats, overview, todayRevenue, sagaOf, steps, sagaWhen, customers, mailsFor };
}
