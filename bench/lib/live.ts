/**
 * §10 items 2 and 5, through the shop's real processes (test/support/processes.ts: api, 2 projectors, notifier,
 * worker as separate OS processes) over HTTP:
 * - command → read-model-visible latency: POST /cart/items, then GET /cart?min_version=<answered version>,
 *   which blocks (LISTEN/NOTIFY, bounded) until the projector has applied that version;
 * - hot product: 100 customers check out one product with 20 in stock at the same moment.
 *
 * Customers are not registered through /auth/register: their access tokens are minted with the api's JWT
 * secret (the api only verifies the token), which saves 200 deliberately slow scrypt hashes on a 2-core box.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { createStreams } from '../../src/kernel/streams.ts';
import { cartStreamId } from '../../src/contexts/carts/index.ts';
import { createTokens, type Principal } from '../../src/platform/http/auth.ts';
import { inventoryStreamId } from '../../src/contexts/inventory/index.ts';
import { consumerLag, type LagReport } from '../../src/platform/messaging/lag.ts';
import type { client, Reply } from '../../test/support/http.ts';
import type { Bench } from './context.ts';
import { customer } from './fixtures.ts';
import { ms, now, ratio, runLanes, sleep, summarise, withTimeout } from './stats.ts';
import type { Row } from './table.ts';

/** The groups whose lag must be zero before a latency is measured (as in src/processes/api.ts). */
const GROUPS = ['projector', 'email-notifier', 'fulfillment'];

export type Http = ReturnType<typeof client>;

export function tokenMinter(bench: Bench) {
  const tokens = createTokens({ secret: bench.config.auth.jwtSecret, accessTtlSeconds: 3600, refreshTtlSeconds: 7200 });
  return async (p: Principal) => tokens.accessToken(p);
}

const describeLag = (r: LagReport) => r.groups.map((g) => `${g.group}: ${g.state}, ${g.members} member(s), lag ${g.total_lag}`).join('; ');

/**
 * Waits until every consumer group has its members, is Stable and has no lag, twice in a row (a rebalance
 * between two checks would otherwise pass unnoticed), so no backlog or rebalance runs during a measurement.
 */
export async function waitForConsumers(kafka: Kafka, topic: string, projectors: number, timeoutMs: number): Promise<number> {
  const start = now();
  let idle = 0;
  let last: LagReport | undefined;
  while (now() - start < timeoutMs) {
    last = await consumerLag(kafka, GROUPS, topic).catch(() => undefined);
    const ok =
      last !== undefined &&
      last.total_lag === 0 &&
      last.groups.every((g) => g.state === 'Stable' && g.members >= (g.group === 'projector' ? projectors : 1));
    idle = ok ? idle + 1 : 0;
    if (idle >= 2) return now() - start;
    await sleep(500);
  }
  throw new Error(`consumers not idle after ${Math.round(timeoutMs / 1000)} s (${last ? describeLag(last) : 'no lag report'})`);
}

async function createProduct(http: Http, adminToken: string, name: string, stock: number): Promise<string> {
  const res = await http.post('/products', { name, description: 'benchmark', price: 1500, stock }, adminToken);
  if (res.status !== 201) throw new Error(`POST /products answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body.id as string;
}

const COMMANDS = 100;
const WARM_UP_COMMANDS = 10;
const VISIBILITY_BUDGET_MS = 60_000;
/** Per command: GET ?min_version waits 3 s at most; it is repeated while the answer says the model is behind. */
const VISIBLE_TIMEOUT_MS = 10_000;

export async function benchVisibility(bench: Bench, http: Http): Promise<Row> {
  const mint = tokenMinter(bench);
  const admin = await mint({ user_id: randomUUID(), email: 'bench-admin@example.com', role: 'admin' });
  const productId = await createProduct(http, admin, `visibility ${randomUUID().slice(0, 8)}`, 1_000_000);
  const command: number[] = [];
  const visible: number[] = [];
  const total: number[] = [];
  let behind = 0;
  const deadline = now() + VISIBILITY_BUDGET_MS;
  for (let i = 0; i < WARM_UP_COMMANDS + COMMANDS && now() < deadline; i++) {
    const user = customer(randomUUID());
    const token = await mint(user);
    const t0 = now();
    const added = await http.post('/cart/items', { product_id: productId, quantity: 1 }, token);
    if (added.status !== 201) throw new Error(`POST /cart/items answered ${added.status}: ${JSON.stringify(added.body)}`);
    const t1 = now();
    let cart: Reply;
    for (;;) {
      cart = await http.get(`/cart?min_version=${added.body.version}`, token);
      if (cart.status !== 200) throw new Error(`GET /cart answered ${cart.status}: ${JSON.stringify(cart.body)}`);
      if (cart.headers.get('x-read-model-behind') !== 'true') break;
      behind++;
      if (now() - t1 > VISIBLE_TIMEOUT_MS)
        throw new Error(`${cartStreamId(user.user_id)} version ${added.body.version} not visible after ${VISIBLE_TIMEOUT_MS} ms`);
    }
    const t2 = now();
    if (!Array.isArray(cart.body?.items) || cart.body.items.length !== 1)
      throw new Error(`the cart read back does not hold the line: ${JSON.stringify(cart.body)}`);
    if (i < WARM_UP_COMMANDS) continue;
    command.push(t1 - t0);
    visible.push(t2 - t1);
    total.push(t2 - t0);
  }
  const t = summarise(total);
  const c = summarise(command);
  const v = summarise(visible);
  return {
    id: '2',
    measurement: 'command → read-model-visible (HTTP, real processes)',
    n: `${t.n} commands, sequential`,
    result: `p50 ${ms(t.p50)}, p99 ${ms(t.p99)}`,
    comparison: `command answered: p50 ${ms(c.p50)}, p99 ${ms(c.p99)}; then visible after: p50 ${ms(v.p50)}, p99 ${ms(v.p99)}`,
    note:
      `startShop with 2 projectors (+ api, notifier, worker), all consumer groups idle first. Per command: POST /cart/items (a new customer each time, one product), ` +
      `then GET /cart?min_version=<answered version>, which waits on LISTEN/NOTIFY until the projector committed that version; timed from sending the POST to the cart read back with the line. ` +
      `Path: api → DynamoDB transaction → Kafka publish → projector batch → PostgreSQL commit → NOTIFY → api query. ${WARM_UP_COMMANDS} warm-up commands first; ` +
      `${behind} GET(s) timed out at 3 s and were repeated.` +
      (t.n < COMMANDS ? ` Stopped by its ${VISIBILITY_BUDGET_MS / 1000} s budget.` : ''),
  };
}

const BUYERS = 100;
const STOCK = 20;
const BURST_BUDGET_MS = 90_000;

export async function benchHotProduct(bench: Bench, http: Http): Promise<Row> {
  const mint = tokenMinter(bench);
  const admin = await mint({ user_id: randomUUID(), email: 'bench-admin@example.com', role: 'admin' });
  const productId = await createProduct(http, admin, `hot ${randomUUID().slice(0, 8)}`, STOCK);
  const buyers = await Promise.all(Array.from({ length: BUYERS }, async () => mint(customer(randomUUID()))));
  // Setup: every buyer puts one unit in the cart (the cart holds no stock; only checkout reserves).
  const filled = await runLanes(
    8,
    (lane) => Math.floor(BUYERS / 8) + (lane < BUYERS % 8 ? 1 : 0),
    async (lane, i) => {
      const token = buyers[i * 8 + lane]!;
      const res = await http.post('/cart/items', { product_id: productId, quantity: 1 }, token);
      if (res.status !== 201) throw new Error(`POST /cart/items answered ${res.status}: ${JSON.stringify(res.body)}`);
    },
    { budgetMs: 60_000 },
  );
  if (filled.completed !== BUYERS) throw new Error(`only ${filled.completed} of ${BUYERS} carts filled within 60 s`);

  // The burst: every buyer checks out at once.
  const outcomes: Array<{ status: number; code: string; ms: number }> = [];
  const start = now();
  await withTimeout(
    'the checkout burst',
    BURST_BUDGET_MS,
    Promise.all(
      buyers.map(async (token) => {
        const t0 = now();
        const res = await http
          .post('/orders', undefined, token)
          .catch((err: Error) => ({ status: 0, headers: new Headers(), body: { code: err.message } }) as Reply);
        outcomes.push({ status: res.status, code: typeof res.body?.code === 'string' ? res.body.code : '', ms: now() - t0 });
      }),
    ),
  );
  const wall = now() - start;

  // The yardstick: the same 20 successful checkouts, one after the other, on a product of their own.
  const serialProduct = await createProduct(http, admin, `serial ${randomUUID().slice(0, 8)}`, STOCK);
  const serialBuyers = await Promise.all(Array.from({ length: STOCK }, async () => mint(customer(randomUUID()))));
  for (const token of serialBuyers) {
    const res = await http.post('/cart/items', { product_id: serialProduct, quantity: 1 }, token);
    if (res.status !== 201) throw new Error(`POST /cart/items answered ${res.status}: ${JSON.stringify(res.body)}`);
  }
  const serialStart = now();
  for (const token of serialBuyers) {
    const res = await http.post('/orders', undefined, token);
    if (res.status !== 201) throw new Error(`serial checkout answered ${res.status}: ${JSON.stringify(res.body)}`);
  }
  const serialWall = now() - serialStart;
  const count = (f: (o: (typeof outcomes)[number]) => boolean) => outcomes.filter(f).length;
  const created = count((o) => o.status === 201);
  const conflicts = count((o) => o.status === 409);
  const serverErrors = count((o) => o.status >= 500 || o.status === 0);
  const codes = new Map<string, number>();
  for (const o of outcomes) if (o.status === 409) codes.set(o.code || '?', (codes.get(o.code || '?') ?? 0) + 1);
  const others = BUYERS - created - conflicts - serverErrors;

  // No oversell: the inventory read model once caught up (StockAdded is version 1, one StockReserved per order)…
  let readModel: { total_quantity: number; reserved_quantity: number; available_quantity: number; version?: number } | undefined;
  const until = now() + 15_000;
  while (now() < until) {
    const res = await http.get(`/inventory/${productId}?min_version=${1 + created}`, admin);
    if (res.status === 200 && res.headers.get('x-read-model-behind') !== 'true') {
      readModel = res.body;
      break;
    }
    if (res.status !== 200) await sleep(100);
  }
  // …and the event store itself, which the decisions were made on.
  const stream = await createStreams(bench.store, { snapshotEvery: bench.config.snapshotEvery }).inventory(productId);

  const s = summarise(outcomes.map((o) => o.ms));
  const won = summarise(outcomes.filter((o) => o.status === 201).map((o) => o.ms));
  const lost = summarise(outcomes.filter((o) => o.status === 409).map((o) => o.ms));
  const failures: string[] = [];
  if (created !== STOCK) failures.push(`${created} orders succeeded, expected ${STOCK}`);
  if (conflicts !== BUYERS - STOCK) failures.push(`${conflicts} got 409, expected ${BUYERS - STOCK}`);
  if (serverErrors > 0) failures.push(`${serverErrors} got 5xx or no answer`);
  if (others > 0) failures.push(`${others} got another status`);
  if (!readModel) failures.push(`read model of ${inventoryStreamId(productId)} not at version ${1 + created} within 15 s`);
  else if (
    readModel.reserved_quantity !== created ||
    readModel.total_quantity !== STOCK ||
    readModel.available_quantity !== STOCK - created
  ) {
    failures.push(
      `read model total ${readModel.total_quantity}, reserved ${readModel.reserved_quantity}, available ${readModel.available_quantity}`,
    );
  }
  if (stream.state.reserved_quantity > STOCK)
    failures.push(`OVERSOLD: the event store has ${stream.state.reserved_quantity} reserved of ${STOCK}`);
  if (stream.state.reserved_quantity !== created)
    failures.push(`event store reserved ${stream.state.reserved_quantity} but ${created} orders answered 201`);
  if (created !== STOCK || conflicts !== BUYERS - STOCK || serverErrors !== 0)
    failures.push(`expected ${STOCK} × 201, ${BUYERS - STOCK} × 409, 0 × 5xx`);
  if (wall > 2 * serialWall) failures.push(`the burst took ${ratio(wall / serialWall)} the time of ${STOCK} serial checkouts (bound ×2)`);
  const verdict = failures.length === 0 ? 'PASS' : `FAIL (${failures.join('; ')})`;
  const codeList = [...codes].map(([code, n]) => `${n} ${code}`).join(', ');
  return {
    id: '5',
    measurement: `hot product: ${BUYERS} buyers, stock ${STOCK}, concurrent checkout (HTTP)`,
    n: `${outcomes.length} checkouts`,
    result:
      `${verdict}: ${created} × 201, ${conflicts} × 409 (${codeList || 'none'}), ${serverErrors} × 5xx; ` +
      `read model reserved ${readModel?.reserved_quantity ?? '?'}, available ${readModel?.available_quantity ?? '?'}; event store reserved ${stream.state.reserved_quantity}`,
    comparison:
      `all ${outcomes.length} answered in ${ms(wall)} = ${ratio(wall / serialWall)} the ${ms(serialWall)} of ${STOCK} serial checkouts; p50 ${ms(s.p50)}, p99 ${ms(s.p99)} ` +
      `(201: p50 ${ms(won.p50)}, max ${ms(won.max)}; 409: p50 ${ms(lost.p50)}, max ${ms(lost.max)})`,
    note:
      `one product created over HTTP with stock ${STOCK}; ${BUYERS} customers each put 1 unit in their cart, then all POST /orders at the same moment (one HTTP request each, no client retries) against the api process ` +
      `(executor: commands on one stream queue in the process, each deciding from its predecessor's commit; a lost optimistic check — another process — re-decides with jittered backoff). ` +
      `The yardstick: ${STOCK} other buyers check out another product of stock ${STOCK}, one request at a time. Checked afterwards: the answers, the inventory read model ` +
      `(GET /inventory/{id}?min_version=${1 + created}) and the inventory stream in the event store.`,
    ...(failures.length ? { failed: true } : {}),
  };
}
