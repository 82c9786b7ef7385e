/**
 * §10 item 4: does a long inventory stream make its commands slower? AddStock through the inventory service
 * (load product, load inventory, decide) plus the append, on streams of 10, 1,000 and 5,000 events, with the
 * project's snapshots (SNAPSHOT_EVERY) and with a full replay of the stream.
 *
 * The full-replay side is the same inventory service over an event store whose snapshot table is a fresh,
 * empty one and whose snapshot interval is out of reach, so it pays the same snapshot GetItem and then folds
 * the whole stream; both sides append to the same streams, alternately, so they see the same lengths.
 */
import { randomUUID } from 'node:crypto';
import { createStreams } from '../../src/kernel/streams.ts';
import { createInventoryHandlers } from '../../src/contexts/inventory/handlers.ts';
import { createDynamoEventStore, ensureTables, type EventStore } from '../../src/platform/eventstore/index.ts';
import { inventoryDecider, inventoryStreamId, type InventoryCommand } from '../../src/contexts/inventory/index.ts';
import type { Bench } from './context.ts';
import { appendPacked, iso, newProduct, toWrite } from './fixtures.ts';
import { ms, now, ratio, summarise } from './stats.ts';
import type { Row } from './table.ts';

const LENGTHS = [10, 1_000, 5_000] as const;
const SAMPLES = 30;
const WARM_UP = 3;
/** Per stream length and side; a full replay of 5,000 events is the slow cell. */
const CELL_BUDGET_MS = 25_000;
const NO_SNAPSHOT_TABLES = (events: string) => ({ events, snapshots: 'bench_no_snapshots', idempotency: 'bench_no_snapshots_idempotency' });
/** The largest SNAPSHOT_EVERY the config accepts: with it a load never writes a snapshot. */
const NEVER = 100_000;

/** `length` inventory events: stock added, then reserve / release cycles, so open reservations stay few. */
function inventoryHistory(productId: string, length: number) {
  let state = inventoryDecider.initialState();
  const events: ReturnType<typeof inventoryDecider.decide> = [];
  const t = Date.now();
  let open: string | undefined;
  for (let i = 0; events.length < length; i++) {
    const now = new Date(t + i).toISOString();
    let command: InventoryCommand;
    if (i % 3 === 0) command = { type: 'AddStock', product_id: productId, quantity: 5, now };
    else if (open === undefined) {
      open = randomUUID();
      command = {
        type: 'ReserveStock',
        product_id: productId,
        reservation_id: randomUUID(),
        order_id: open,
        quantity: 1,
        expires_at: new Date(t + 3_600_000).toISOString(),
        now,
      };
    } else {
      command = { type: 'ReleaseReservation', product_id: productId, order_id: open, reason: 'cancelled', now };
      open = undefined;
    }
    const decided = inventoryDecider.decide(command, state);
    state = decided.reduce(inventoryDecider.evolve, state);
    events.push(...decided);
  }
  return events.slice(0, length);
}

export async function benchStreamLength(bench: Bench): Promise<Row[]> {
  const { store } = bench;
  // ---- setup (not measured): a product per length, its inventory stream appended 100 events per transaction
  const products = LENGTHS.map((length) => ({ length, product: newProduct(`stream length ${length}`, 1200, 0) }));
  await appendPacked(store, [
    ...products.flatMap(({ product }) => product.writes),
    ...products.map(({ length, product }) => toWrite(inventoryStreamId(product.id), 'Inventory', 0, inventoryHistory(product.id, length))),
  ]);

  await ensureTables(bench.dynamo, NO_SNAPSHOT_TABLES(bench.config.dynamodb.tables.events));
  const replayStore = createDynamoEventStore({ client: bench.dynamo, tables: NO_SNAPSHOT_TABLES(bench.config.dynamodb.tables.events) });
  const side = (eventStore: EventStore, snapshotEvery: number) => {
    // The executor is not used: the measured path is the plan and the append, without publishing.
    const streams = () => createStreams(eventStore, { snapshotEvery });
    return { eventStore, streams, inventory: createInventoryHandlers({ clock: () => new Date(), newId: randomUUID }) };
  };
  const sides = { snapshot: side(store, bench.config.snapshotEvery), replay: side(replayStore, NEVER) };

  /** loadAggregate (product + inventory) + decide + append: the executor's attempt without publishing. */
  const addStock = async (which: keyof typeof sides, productId: string) => {
    const { eventStore, streams, inventory } = sides[which];
    const t0 = now();
    const decision = await inventory.addStock(streams(), { product_id: productId, quantity: 1 });
    await eventStore.append(decision.writes, { metadata: { correlation_id: 'bench-stream-length' }, now: iso() });
    return now() - t0;
  };

  const rows: Row[] = [];
  const p50At = new Map<number, number>();
  for (const { length, product } of products) {
    const samples = { snapshot: [] as number[], replay: [] as number[] };
    const deadline = now() + CELL_BUDGET_MS * 2;
    for (let i = 0; i < WARM_UP; i++) {
      await addStock('snapshot', product.id);
      await addStock('replay', product.id);
    }
    // Alternating, so both sides see the same stream lengths and the same machine load.
    for (let i = 0; i < SAMPLES && now() < deadline; i++) {
      samples.snapshot.push(await addStock('snapshot', product.id));
      samples.replay.push(await addStock('replay', product.id));
    }
    const a = summarise(samples.snapshot);
    const b = summarise(samples.replay);
    p50At.set(length, a.p50);
    const flat =
      length === LENGTHS[0] ? '' : `; snapshot p50 vs the 10-event stream ${ratio(a.p50 / (p50At.get(LENGTHS[0]) ?? Number.NaN))}`;
    rows.push({
      id: `4${'abc'[LENGTHS.indexOf(length)]}`,
      measurement: `AddStock latency, inventory stream of ${length.toLocaleString('en-US')} events`,
      n: `${a.n} + ${b.n}`,
      result: `snapshots p50 ${ms(a.p50)}, p99 ${ms(a.p99)}`,
      comparison: `full replay p50 ${ms(b.p50)}, p99 ${ms(b.p99)}; replay/snapshot p50 ${ratio(b.p50 / a.p50)}${flat}`,
      note:
        `inventory service addStock (load product stream, load inventory stream, decide) + append, sequential, ${WARM_UP} warm-up commands per side first; ` +
        `the stream had ${length.toLocaleString('en-US')} StockAdded/StockReserved/StockReleased events (grows by one per command: ${length + 2 * WARM_UP}..${length + 2 * (WARM_UP + a.n) - 1} while measured). ` +
        `"snapshots" = SNAPSHOT_EVERY=${bench.config.snapshotEvery} (snapshot + tail); "full replay" = the same service with an empty snapshot table, folding every event.` +
        (a.n < SAMPLES ? ` Stopped by its time budget after ${a.n} samples.` : ''),
    });
  }
  return rows;
}
