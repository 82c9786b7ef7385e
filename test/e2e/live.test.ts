import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertProblem, useShop, type ShopFixture } from '../support/shop.ts';
import { kafkaTopics } from '../../src/platform/shared/config.ts';

let f: ShopFixture;
useShop((fixture) => (f = fixture));

interface Received {
  event: string;
  data: any;
}

/** Opens GET /live the way the SPA does (fetch with the Authorization header) and collects its events. */
async function openLive(token: string | undefined) {
  const controller = new AbortController();
  const res = await fetch(`${f.shop.baseUrl}/live`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
    signal: controller.signal,
  });
  const received: Received[] = [];
  let comments = 0;
  const waiters: Array<() => void> = [];
  const pump = (async () => {
    if (!res.ok || !res.body) return;
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (frame.startsWith(':')) comments += 1;
          const event = /^event: (.*)$/m.exec(frame)?.[1];
          const data = /^data: (.*)$/m.exec(frame)?.[1];
          if (event && data) received.push({ event, data: JSON.parse(data) });
          for (const w of waiters.splice(0)) w();
        }
      }
    } catch {
      /* aborted */
    }
  })();
  return {
    res,
    received,
    comments: () => comments,
    /** Resolves with the first event matching `match`, or rejects after `timeoutMs`. */
    async next(match: (r: Received) => boolean, what: string, timeoutMs = 20_000): Promise<Received> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = received.find(match);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no ${what} on /live within ${timeoutMs} ms; got ${JSON.stringify(received)}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 250);
        });
      }
    },
    async close() {
      controller.abort();
      await pump;
    },
  };
}

test('GET /live: a customer hears of their own order and cart only; an admin hears of everything', async () => {
  const { a, admin } = f;
  const product = await a.product({ price: 1200, stock: 5 });
  const buyer = await a.customer();
  const stranger = await a.customer();
  const mine = await openLive(buyer.token);
  const theirs = await openLive(stranger.token);
  const all = await openLive(admin);
  try {
    assert.equal(mine.res.status, 200);
    assert.match(mine.res.headers.get('content-type') ?? '', /^text\/event-stream/);
    const ready = await mine.next((r) => r.event === 'ready', 'ready');
    assert.deepEqual([ready.data.user_id, ready.data.role], [buyer.user_id, 'customer']);

    const order = await a.order(buyer, [[product.id, 2]]);
    const paid = await a.http.post(`/orders/${order.order_id}/pay`, undefined, buyer.token);
    assert.equal(paid.status, 200, JSON.stringify(paid.body));

    const orderPaid = await mine.next(
      (r) =>
        r.event === 'change' &&
        r.data.aggregate_type === 'Order' &&
        r.data.aggregate_id === order.order_id &&
        r.data.version >= paid.body.version,
      'the paid order',
    );
    assert.deepEqual(Object.keys(orderPaid.data).sort(), ['aggregate_id', 'aggregate_type', 'version']);
    assert.equal(orderPaid.data.aggregate_type, 'Order');
    await mine.next((r) => r.event === 'change' && r.data.aggregate_type === 'Cart', 'the cart change');
    // The admin sees the same order and the inventory of its product, which the customer does not.
    await all.next(
      (r) =>
        r.event === 'change' &&
        r.data.aggregate_type === 'Order' &&
        r.data.aggregate_id === order.order_id &&
        r.data.version >= paid.body.version,
      'the order (admin)',
    );
    await all.next((r) => r.event === 'change' && r.data.aggregate_id === `inventory-${product.id}`, 'the inventory (admin)');

    // The worker starts the order's fulfilment saga on OrderPaid; each step it records is pushed, to its owner too.
    const saga = await mine.next(
      (r) => r.event === 'change' && r.data.aggregate_type === 'Saga' && r.data.aggregate_id === `fulfilment-${order.order_id}`,
      'the fulfilment saga step',
    );
    assert.ok(saga.data.version >= 1, JSON.stringify(saga.data));
    await all.next((r) => r.event === 'change' && r.data.aggregate_id === `fulfilment-${order.order_id}`, 'the saga step (admin)');

    assert.ok(
      !mine.received.some((r) => r.event === 'change' && !['Order', 'Cart', 'Saga'].includes(r.data.aggregate_type)),
      JSON.stringify(mine.received),
    );
    const strangerSaw = theirs.received.filter((r) => r.event === 'change');
    assert.deepEqual(strangerSaw, [], 'another customer hears nothing of this order');
  } finally {
    await Promise.all([mine.close(), theirs.close(), all.close()]);
  }
});

test('GET /live: no token is a 401, and streams per user are bounded (429 with Retry-After)', async () => {
  const { a } = f;
  const anonymous = await fetch(`${f.shop.baseUrl}/live`);
  assert.equal(anonymous.status, 401);
  const buyer = await a.customer();
  const streams = [];
  try {
    for (let i = 0; i < 5; i++) {
      const s = await openLive(buyer.token);
      assert.equal(s.res.status, 200);
      streams.push(s);
    }
    const extra = await a.http.get('/live', buyer.token);
    assertProblem(extra, 429, 'a sixth stream');
    assert.ok(Number(extra.headers.get('retry-after')) > 0);
    // Closing one frees its place.
    await streams.pop()!.close();
    const again = await (async () => {
      for (let i = 0; i < 50; i++) {
        const s = await openLive(buyer.token);
        if (s.res.status === 200) return s;
        await s.close();
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error('a closed stream never freed its place');
    })();
    streams.push(again);
  } finally {
    await Promise.all(streams.map((s) => s.close()));
  }
});

test('GET /ops/dlq counts the dead-letter topic per partition, for admins only; /ops/lag alongside it', async () => {
  const { a, admin } = f;
  const [dlq, lag] = await Promise.all([a.http.get('/ops/dlq', admin), a.http.get('/ops/lag', admin)]);
  assert.equal(dlq.status, 200, JSON.stringify(dlq.body));
  assert.equal(lag.status, 200, JSON.stringify(lag.body));
  assert.equal(dlq.body.topic, kafkaTopics().dlqTopic);
  assert.ok(dlq.body.partitions.length > 0);
  assert.equal(
    dlq.body.total,
    dlq.body.partitions.reduce((n: number, p: { messages: number }) => n + p.messages, 0),
  );
  const customer = await a.customer();
  assertProblem(await a.http.get('/ops/dlq', customer.token), 403, 'a customer');
});
