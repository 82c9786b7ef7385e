/**
 * §10 item 1: checkout through the order service and the executor, in process, against raw TransactWriteItems
 * of the same shape on the same DynamoDB Local, at the same concurrency and count.
 *
 * Each of the LANES lanes checks out its own customers' carts of LINES products that only that lane buys, so
 * neither side ever loses an optimistic lock: the ratio is the cost of the command path itself (loading the
 * cart, product and inventory streams, deciding, appending, publishing to Kafka, clearing the outbox marker),
 * not of contention, which item 5 measures on its own.
 */
import { randomUUID } from 'node:crypto';
import { TransactWriteItemsCommand, type TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { createApplication } from '../../src/composition/application.ts';
import { cartStreamId, type CartState } from '../../src/contexts/carts/index.ts';
import { DEFAULT_OUTBOX_SHARDS, ensureTables, type EventStore } from '../../src/platform/eventstore/index.ts';
import { eventItem, outboxShard, snapshotItem } from '../../src/platform/eventstore/dynamodb-items.ts';
import {
  INVENTORY_SNAPSHOT_SCHEMA_VERSION,
  inventoryDecider,
  inventoryStreamId,
  toSnapshot,
  type InventoryState,
} from '../../src/contexts/inventory/index.ts';
import { decideCheckout } from '../../src/contexts/orders/index.ts';
import type { AggregateType, EventEnvelope } from '../../src/platform/shared/envelope.ts';
import type { Bench } from './context.ts';
import { totalRequests } from './context.ts';
import { appendPacked, customer, iso, newCart, newProduct, publishAndMark, type BenchProduct } from './fixtures.ts';
import { ms, now, perSecond, rate, ratio, runLanes, share, summarise, type LaneResult } from './stats.ts';
import type { Row } from './table.ts';

const LANES = 8;
const COUNT = 300;
const WARM_UP_PER_LANE = 3;
/** Cart lines per checkout: a transaction of 1 order + LINES inventory + 1 cart items. */
const LINES = 3;
const PHASE_BUDGET_MS = 60_000;
/** The measured runs alternate ours → raw → what-if this many times. */
const ROUNDS = 3;
/** The raw side writes into tables of its own (same layout), so it cannot disturb the shop's events or its sweeper. */
const RAW_TABLES = { events: 'bench_raw_events', snapshots: 'bench_raw_snapshots', idempotency: 'bench_raw_idempotency' };
const RESERVATION_TTL_SECONDS = 15 * 60;

export async function benchCheckout(bench: Bench): Promise<Row[]> {
  const { store } = bench;
  const perLane = share(COUNT, LANES);

  // ---- setup (not measured): per lane its products and one cart per customer it will check out (item 1 and
  // the what-if run each check out their own customers)
  const lanes = Array.from({ length: LANES }, (_, lane) => {
    const products = Array.from({ length: LINES }, (_, k) => newProduct(`checkout lane ${lane} item ${k}`, 1000 + 100 * k, 1_000_000));
    const users = Array.from({ length: WARM_UP_PER_LANE + perLane(lane) }, () => randomUUID());
    return { products, users, carts: users.map((u) => newCart(u, products)) };
  });
  const appended = await appendPacked(
    store,
    lanes.flatMap((l) => [...l.products.flatMap((p) => p.writes), ...l.carts.map((c) => c.write)]),
  );
  await publishAndMark(bench.publisher, store, appended);

  // The executor's steps run one after the other, so their mean times add up to (about) a checkout's. Only the
  // measured runs of row 1 are recorded.
  const phases = { plan: 0, append: 0, publish: 0, mark: 0 };
  let recording = false;
  const timed = async <T>(phase: keyof typeof phases, work: () => Promise<T>): Promise<T> => {
    const t0 = now();
    try {
      return await work();
    } finally {
      if (recording) phases[phase] += now() - t0;
    }
  };
  const timedStore: EventStore = {
    ...store,
    append: (writes, opts) => timed('append', () => store.append(writes, opts)),
    markPublished: (events) => timed('mark', () => store.markPublished(events)),
  };
  const publisher = { publish: (events: EventEnvelope[]) => timed('publish', () => bench.publisher.publish(events)) };
  const checkoutWith = (eventStore: EventStore) => {
    const { executor, orders } = createApplication({
      store: eventStore,
      publisher,
      clock: () => new Date(),
      newId: randomUUID,
      log: bench.log,
      snapshotEvery: bench.config.snapshotEvery,
      reservationTtlSeconds: RESERVATION_TTL_SECONDS,
    });
    const decide: typeof orders.checkout = (streams, command) => timed('plan', () => orders.checkout(streams, command));
    const run = async (lane: number, index: number) => {
      const user = lanes[lane]!.users[index]!;
      const placed = await executor.execute(
        decide,
        { user: customer(user), order_id: randomUUID() },
        { metadata: { correlation_id: `bench-checkout-${index}` } },
      );
      if (placed.status !== 'pending') throw new Error(`checkout answered ${JSON.stringify(placed)}`);
    };
    return { run, drain: () => executor.drain() };
  };
  const shop = checkoutWith(timedStore);
  const ours = shop.run;
  /**
   * A round of ours ends when its work after the answers (outbox markers cleared in batches) is done too: that
   * work is ours, and left running it would slow the raw round that follows.
   */
  const oursRound = async (perLane: (lane: number) => number, op: (lane: number, i: number) => Promise<void>): Promise<LaneResult> => {
    const run = await runLanes(LANES, perLane, op, budget);
    const t = now();
    await shop.drain();
    return { ...run, elapsedMs: run.elapsedMs + (now() - t) };
  };

  // ---- the raw side: the same transactions, decided up front so only the TransactWriteItems is timed
  await ensureTables(bench.dynamo, RAW_TABLES);
  const raw = Array.from({ length: LANES }, (_, lane) => rawTransactions(lanes[lane]!.products, WARM_UP_PER_LANE + perLane(lane)));
  const rawOp = async (lane: number, index: number) => {
    await bench.dynamo.send(new TransactWriteItemsCommand({ TransactItems: raw[lane]![index]!, ClientRequestToken: randomUUID() }));
  };

  // ---- warm-up (V8, the SDK's connections, DynamoDB Local's JIT), then the measured runs, in ROUNDS rounds of
  // ours → raw, so a change in the machine's load (other work on 2 shared cores) hits both alike
  const budget = { budgetMs: PHASE_BUDGET_MS / ROUNDS };
  await oursRound(() => WARM_UP_PER_LANE, ours);
  await runLanes(LANES, () => WARM_UP_PER_LANE, rawOp, budget);
  const requests = new Map<string, number>();
  const spent = new Map<string, number>();
  const runs = { ours: [] as LaneResult[], raw: [] as LaneResult[] };
  for (let round = 0; round < ROUNDS; round++) {
    const inRound = (lane: number) => share(perLane(lane), ROUNDS)(round);
    const before = (lane: number) => Array.from({ length: round }, (_, r) => share(perLane(lane), ROUNDS)(r)).reduce((x, y) => x + y, 0);
    const requestsBefore = new Map(bench.requests);
    const spentBefore = new Map(bench.requests.spentMs);
    recording = true;
    runs.ours.push(await oursRound(inRound, (lane, i) => ours(lane, WARM_UP_PER_LANE + before(lane) + i)));
    recording = false;
    for (const [name, n] of bench.requests) requests.set(name, (requests.get(name) ?? 0) + n - (requestsBefore.get(name) ?? 0));
    for (const [name, t] of bench.requests.spentMs) spent.set(name, (spent.get(name) ?? 0) + t - (spentBefore.get(name) ?? 0));
    runs.raw.push(await runLanes(LANES, inRound, (lane, i) => rawOp(lane, WARM_UP_PER_LANE + before(lane) + i), budget));
  }
  const merge = (results: LaneResult[]): LaneResult => ({
    latencies: results.flatMap((r) => r.latencies),
    elapsedMs: results.reduce((sum, r) => sum + r.elapsedMs, 0),
    completed: results.reduce((sum, r) => sum + r.completed, 0),
    truncated: results.some((r) => r.truncated),
  });
  const measuredOurs = merge(runs.ours);
  const measuredRaw = merge(runs.raw);
  const requestsDuring = [...requests].filter(([, n]) => n > 0);
  const oursPhases = phases;

  const a = summarise(measuredOurs.latencies);
  const b = summarise(measuredRaw.latencies);
  const oursRate = rate(measuredOurs.completed, measuredOurs.elapsedMs);
  const rawRate = rate(measuredRaw.completed, measuredRaw.elapsedMs);
  const perCheckout = totalRequests(new Map(requestsDuring)) / Math.max(1, measuredOurs.completed);
  const breakdown = requestsDuring
    .sort(([, x], [, y]) => y - x)
    .map(
      ([name, n]) =>
        `${(n / Math.max(1, measuredOurs.completed)).toFixed(1)} ${name.replace(/Command$/, '')} of ${ms((spent.get(name) ?? 0) / n)}`,
    )
    .join(', ');
  const per = (phase: keyof typeof phases) => ms(oursPhases[phase] / Math.max(1, measuredOurs.completed));
  const truncated = (r: LaneResult, what: string) =>
    r.truncated ? ` (${what} stopped by its time budget of ${PHASE_BUDGET_MS / ROUNDS / 1000} s per round)` : '';
  return [
    {
      id: '1',
      measurement: 'checkout: command handler + executor vs raw TransactWriteItems',
      n: `${measuredOurs.completed} + ${measuredRaw.completed}, conc ${LANES}`,
      result: `ours ${perSecond(oursRate, 'checkouts')}; p50 ${ms(a.p50)}, p99 ${ms(a.p99)}`,
      comparison: `raw ${perSecond(rawRate, 'tx')}, p50 ${ms(b.p50)}, p99 ${ms(b.p99)}; ours/raw: p50 ${ratio(a.p50 / b.p50)}, p99 ${ratio(a.p99 / b.p99)}, throughput ${ratio(oursRate / rawRate)}`,
      note:
        `checkout of a ${LINES}-line cart = one TransactWriteItems of ${3 * LINES + 2} items (order + ${LINES} inventories + cart, all attribute_not_exists(version), + ${LINES} product version guards + ${LINES} inventory tips), ` +
        `${LANES} lanes, each buying only its own ${LINES} products (no lock conflicts on either side), after ${WARM_UP_PER_LANE} warm-up checkouts per lane on each side, measured in ${ROUNDS} rounds of ours → raw. ` +
        `Ours = executor.execute(orders.checkout): load the cart's tip, then the products' and inventories' (one BatchGetItem, shared by the commands of one tick; streams this process committed itself are taken from that commit), decide, append (events, guards and the tips), answer; meanwhile publish to the dev Kafka broker (acks -1; a topic of its own, so the shop's consumers later start without a backlog) and clear the transaction's outbox marker (rewritten with others in one BatchWriteItem); a round of ours ends when that work is done too; ` +
        `mean per checkout: load + decide ${per('plan')}, append ${per('append')}, Kafka publish ${per('publish')}, markPublished ${per('mark')}; ` +
        `${perCheckout.toFixed(1)} DynamoDB requests per checkout (${breakdown} mean each, sent to answered). ` +
        `Raw = the same items (same attributes, outbox index included) into a scratch table, decided beforehand, only the TransactWriteItems timed.` +
        truncated(measuredOurs, 'ours') +
        truncated(measuredRaw, 'raw'),
    },
  ];
}

/**
 * `count` checkout transactions of one lane as the order service would write them, each against the state left
 * by the previous one (inventory versions and reservations advance; every customer has a fresh 3-line cart).
 */
function rawTransactions(products: readonly BenchProduct[], count: number): TransactWriteItem[][] {
  // Separate ids: the raw table is empty, so the raw side's streams start where the shop's would.
  const inventories = new Map<string, { state: InventoryState; version: number }>(
    products.map((p) => [p.id, { state: p.inventory, version: 1 }]),
  );
  const transactions: TransactWriteItem[][] = [];
  for (let i = 0; i < count; i++) {
    const userId = randomUUID();
    const orderId = randomUUID();
    const cart: CartState = newCart(userId, products).state;
    const t = new Date();
    const decision = decideCheckout({
      order_id: orderId,
      user_id: userId,
      user_email: customer(userId).email,
      now: iso(t),
      expires_at: iso(new Date(t.getTime() + RESERVATION_TTL_SECONDS * 1000)),
      reservation_ids: () => randomUUID(),
      cart,
      products: new Map(products.map((p) => [p.id, p.state])),
      inventories: new Map(products.map((p) => [p.id, inventories.get(p.id)!.state])),
    });
    const envelopes: EventEnvelope[] = [];
    const push = (aggregate_id: string, aggregate_type: AggregateType, version: number, event: { type: string; data: unknown }) =>
      envelopes.push({
        event_id: randomUUID(),
        aggregate_id,
        aggregate_type,
        event_type: event.type,
        version,
        data: event.data as Record<string, unknown>,
        metadata: { correlation_id: `bench-raw-${i}`, user_id: userId },
        created_at: iso(t),
        schema_version: 1,
      });
    decision.order.forEach((e, k) => push(orderId, 'Order', k + 1, e));
    for (const p of products) {
      const inv = inventories.get(p.id)!;
      for (const e of decision.inventories.get(p.id) ?? []) {
        inv.version += 1;
        inv.state = inventoryDecider.evolve(inv.state, e);
        push(inventoryStreamId(p.id), 'Inventory', inv.version, e);
      }
    }
    // The cart holds LINES ItemAddedToCart events, so its CartCleared is version LINES + 1.
    decision.cart.forEach((e, k) => push(cartStreamId(userId), 'Cart', products.length + k + 1, e));
    transactions.push([
      ...envelopes.map((e, i) => ({
        Put: {
          TableName: RAW_TABLES.events,
          Item: i === 0 ? eventItem(e, outboxShard(e.aggregate_id, DEFAULT_OUTBOX_SHARDS), envelopes.slice(1)) : eventItem(e),
          ConditionExpression: 'attribute_not_exists(#v)',
          ExpressionAttributeNames: { '#v': 'version' },
        },
      })),
      // The order service's guards: every product still at the version the decision read (1).
      ...products.map((p) => ({
        ConditionCheck: {
          TableName: RAW_TABLES.events,
          Key: { aggregate_id: { S: p.id }, version: { N: '2' } },
          ConditionExpression: 'attribute_not_exists(#v)',
          ExpressionAttributeNames: { '#v': 'version' },
        },
      })),
      // The inventories' tips, as the executor writes them.
      ...products.map((p) => {
        const inv = inventories.get(p.id)!;
        return {
          Put: {
            TableName: RAW_TABLES.snapshots,
            Item: snapshotItem({
              aggregate_id: inventoryStreamId(p.id),
              version: inv.version,
              schema_version: INVENTORY_SNAPSHOT_SCHEMA_VERSION,
              state: toSnapshot(inv.state),
            }),
          },
        };
      }),
    ]);
  }
  return transactions;
}
