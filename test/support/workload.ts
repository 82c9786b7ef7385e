/**
 * A steady, seeded workload of shopping trips through the real api, for the reliability and fault tests: every
 * command's answer is recorded (acknowledged with its stream and version, refused, failed, or never answered),
 * with its timing, so a test can say afterwards what was lost and what the api's error rate was while a fault
 * lasted.
 */
import assert from 'node:assert/strict';
import { eventually, type Reply } from './http.ts';
import type { Customer, ShopActors } from './shop.ts';

/** A command the api answered 2xx: the stream it wrote and the version it answered with. */
export interface Ack {
  what: string;
  stream: string;
  version: number;
}

/** One command as the client saw it: when it started, how long it took, how it ended. */
export interface CommandRecord {
  what: string;
  startedAt: number;
  ms: number;
  outcome: 'ok' | 'refused' | 'failed' | 'lost';
  status?: number;
}

export interface Workload {
  customers: Customer[];
  products: string[];
  orders: Set<string>;
  acks: Ack[];
  /** Commands answered 409 (lost a race too often, illegal transition…): allowed, counted. */
  refused: Map<string, number>;
  /** Anything else that is not 2xx: always a failure. */
  failures: string[];
  /** Commands whose answer never came (the connection failed): their outcome is unknown. */
  lost: Array<{ what: string; startedAt: number; error: string }>;
  /** Every command, in the order their answers came. */
  log: CommandRecord[];
  /** Set once every loop has ended. */
  finished: boolean;
}

export interface DriveOptions {
  /** Trips per customer at most. */
  trips: number;
  /** The loops end after this, each at the end of its current trip. */
  maxMs: number;
  seed: number;
  /** Pause of each customer between trips. Default 0: back to back. */
  tripPauseMs?: number;
  /** Pause of the admin between catalogue edits. Default 50 ms. */
  adminPauseMs?: number;
  /** Commands that take longer are abandoned and recorded as lost. Default: wait for the answer. */
  commandTimeoutMs?: number;
  /** Ends the loops early (each at the end of its current trip). */
  signal?: AbortSignal;
}

/** The connection failed: the loop that sent the command ends (used when the api is killed). */
export class Lost extends Error {}

export function mulberry32(seed: number): () => number {
  let s = seed | 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Polls a condition (bounded), for "mid-stream" moments such as "after N commands". */
export async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  await eventually(async () => check(), { what, timeoutMs, intervalMs: 20 });
}

export function summary(w: Workload): string {
  const refused = [...w.refused].map(([k, n]) => `${k} ×${n}`).join(', ') || 'none';
  return `${w.acks.length} commands acknowledged, ${w.orders.size} orders, refused: ${refused}`;
}

/** Error rate and latency of the commands that started within [from, to). */
export function errorRate(
  w: Workload,
  from = 0,
  to = Infinity,
): { commands: number; failed: number; lost: number; refused: number; rate: number; p50_ms: number; p99_ms: number; max_ms: number } {
  const inWindow = w.log.filter((c) => c.startedAt >= from && c.startedAt < to);
  const ms = inWindow.map((c) => c.ms).sort((x, y) => x - y);
  const rank = (p: number) => (ms.length === 0 ? 0 : ms[Math.min(ms.length - 1, Math.ceil(p * ms.length) - 1)]!);
  const failed = inWindow.filter((c) => c.outcome === 'failed').length;
  const lost = inWindow.filter((c) => c.outcome === 'lost').length;
  return {
    commands: inWindow.length,
    failed,
    lost,
    refused: inWindow.filter((c) => c.outcome === 'refused').length,
    rate: inWindow.length === 0 ? 0 : (failed + lost) / inWindow.length,
    p50_ms: rank(0.5),
    p99_ms: rank(0.99),
    max_ms: ms.at(-1) ?? 0,
  };
}

/** The workload's vocabulary over one shop: who shops, what they buy, and the admin's catalogue edits. */
export function workloads(a: ShopActors, admin: string) {
  async function newWorkload(customers: number | Customer[], products: number | string[]): Promise<Workload> {
    return {
      customers: Array.isArray(customers)
        ? customers
        : await Promise.all(Array.from({ length: customers }, (_, i) => a.customer(`信頼性 ${i}`))),
      products: Array.isArray(products)
        ? products
        : (await Promise.all(Array.from({ length: products }, (_, i) => a.product({ price: 1000 + 100 * i, stock: 100_000 })))).map(
            (p) => p.id as string,
          ),
      orders: new Set(),
      acks: [],
      refused: new Map(),
      failures: [],
      lost: [],
      log: [],
      finished: false,
    };
  }

  /** Sends one command: the reply if 2xx, undefined if refused (409) or failed (recorded), throws Lost if no answer. */
  async function send(w: Workload, what: string, call: () => Promise<Reply>, timeoutMs?: number): Promise<Reply | undefined> {
    const startedAt = Date.now();
    const record = (outcome: CommandRecord['outcome'], status?: number) =>
      w.log.push({ what, startedAt, ms: Date.now() - startedAt, outcome, ...(status === undefined ? {} : { status }) });
    let res: Reply;
    try {
      if (timeoutMs === undefined) res = await call();
      else {
        let timer: NodeJS.Timeout | undefined;
        res = await Promise.race([
          call(),
          new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs))),
        ]).finally(() => clearTimeout(timer));
      }
    } catch (err) {
      record('lost');
      w.lost.push({ what, startedAt, error: String((err as Error).cause ?? (err as Error).message) });
      throw new Lost(what);
    }
    if (res.status >= 200 && res.status < 300) {
      record('ok', res.status);
      return res;
    }
    const key = `${what} → ${res.status} ${res.body?.code ?? ''}`;
    if (res.status === 409) {
      record('refused', res.status);
      w.refused.set(key, (w.refused.get(key) ?? 0) + 1);
    } else {
      record('failed', res.status);
      w.failures.push(`${key} ${JSON.stringify(res.body)?.slice(0, 300)}`);
    }
    return undefined;
  }

  const ack = (w: Workload, what: string, stream: string, res: Reply) => {
    assert.equal(typeof res.body.version, 'number', `${what} answers a version: ${JSON.stringify(res.body)}`);
    w.acks.push({ what, stream, version: res.body.version });
  };

  /** One shopping trip: fill the cart (sometimes removing a line again), check out, then pay / ship / cancel or not. */
  async function trip(w: Workload, c: Customer, rnd: () => number, timeoutMs?: number): Promise<void> {
    const { http } = a;
    const cart = `cart-${c.user_id}`;
    const lines = 1 + Math.floor(rnd() * 2);
    const extra = rnd() < 0.25 ? 1 : 0;
    const picks = [...w.products].sort(() => rnd() - 0.5).slice(0, lines + extra);
    const added = new Set<string>();
    for (const pid of picks) {
      const res = await send(
        w,
        'add to cart',
        () => http.post('/cart/items', { product_id: pid, quantity: 1 + Math.floor(rnd() * 2) }, c.token),
        timeoutMs,
      );
      if (res) {
        ack(w, 'add to cart', cart, res);
        added.add(pid);
      }
    }
    if (extra && picks.length > 1 && added.has(picks.at(-1)!)) {
      const res = await send(w, 'remove from cart', () => http.del(`/cart/items/${picks.at(-1)}`, c.token), timeoutMs);
      if (res) ack(w, 'remove from cart', cart, res);
    }
    const placed = await send(w, 'checkout', () => http.post('/orders', undefined, c.token), timeoutMs);
    if (!placed) return;
    const orderId: string = placed.body.order_id;
    w.orders.add(orderId);
    ack(w, 'checkout', orderId, placed);
    const step = async (what: string, call: () => Promise<Reply>) => {
      const res = await send(w, what, call, timeoutMs);
      if (res) ack(w, what, orderId, res);
      return res;
    };
    const pay = () => step('pay', () => http.post(`/orders/${orderId}/pay`, undefined, c.token));
    const cancel = () => step('cancel', () => http.post(`/orders/${orderId}/cancel`, { reason: '信頼性テスト' }, c.token));
    const r = rnd();
    if (r < 0.25) await pay();
    else if (r < 0.4) {
      if (await pay()) await step('ship', () => http.post(`/orders/${orderId}/ship`, { tracking_number: `RT${Date.now()}` }, admin));
    } else if (r < 0.55) {
      if (await pay()) await cancel();
    } else if (r < 0.75) await cancel();
    // else: left pending (its reservation stays open)
  }

  /** Every customer shops `trips` times in parallel while the admin edits prices and adds stock; bounded by time. */
  async function drive(w: Workload, opts: DriveOptions): Promise<void> {
    const deadline = Date.now() + opts.maxMs;
    const running = () => Date.now() < deadline && !opts.signal?.aborted;
    const pause = (ms: number | undefined) =>
      ms ? new Promise((r) => setTimeout(r, Math.max(0, Math.min(ms, deadline - Date.now())))) : Promise.resolve();
    const shopper = async (c: Customer, i: number) => {
      const rnd = mulberry32(opts.seed + i);
      try {
        for (let n = 0; n < opts.trips && running(); n++) {
          await trip(w, c, rnd, opts.commandTimeoutMs);
          await pause(opts.tripPauseMs);
        }
      } catch (err) {
        if (!(err instanceof Lost)) throw err;
      }
    };
    let shoppers = w.customers.length;
    const adminLoop = async () => {
      const rnd = mulberry32(opts.seed - 1);
      try {
        for (let n = 0; n < 200 && running() && shoppers > 0; n++) {
          const pid = w.products[n % w.products.length]!;
          if (n % 3 === 2) {
            const res = await send(
              w,
              'add stock',
              () => a.http.post(`/inventory/${pid}/add_stock`, { quantity: 10 }, admin),
              opts.commandTimeoutMs,
            );
            if (res) ack(w, 'add stock', `inventory-${pid}`, res);
          } else {
            const res = await send(
              w,
              'update price',
              () => a.http.put(`/products/${pid}`, { price: 1000 + Math.floor(rnd() * 50) * 10 }, admin),
              opts.commandTimeoutMs,
            );
            if (res) ack(w, 'update price', pid, res);
          }
          await pause(opts.adminPauseMs ?? 50); // pacing: a catalogue edit now and then, not a hot loop
        }
      } catch (err) {
        if (!(err instanceof Lost)) throw err;
      }
    };
    await Promise.all([
      ...w.customers.map((c, i) =>
        shopper(c, i).finally(() => {
          shoppers -= 1;
        }),
      ),
      adminLoop(),
    ]).finally(() => {
      w.finished = true;
    });
  }

  return { newWorkload, drive };
}
