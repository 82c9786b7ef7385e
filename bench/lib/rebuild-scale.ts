/**
 * Rows 3d–3f: the blue/green rebuild at scale (issue 12). Two event stores seeded by `npm run seed`'s generator
 * (src/devstack/seed.ts) into DynamoDB tables of their own, SMALL and LARGE events; each rebuilt by the real
 * `npm run rebuild` process (cmd/rebuild.ts) into a scratch database, which reports its own peak RSS. Then the
 * LARGE read model is rebuilt once more while a reader runs the shop's read queries against it; their p99 is
 * compared with the same reader with no rebuild running.
 */
import { spawn } from 'node:child_process';
import type pg from 'pg';
import { generateShop, writeEvents } from '../../src/devstack/seed.ts';
import { ensureTables } from '../../src/platform/eventstore/index.ts';
import { createReadQueries } from '../../src/composition/queries.ts';
import type { Bench } from './context.ts';
import type { ProjectorFigures } from './projector.ts';
import { scratchDatabase } from './projector.ts';
import { ms, now, percentile, perSecond, ratio, sleep } from './stats.ts';
import type { Row } from './table.ts';

const SMALL = Number(process.env.BENCH_REBUILD_SMALL ?? 20_000);
const LARGE = Number(process.env.BENCH_REBUILD_LARGE ?? 200_000);
const BATCH = 2000;

interface ChildReport {
  events: number;
  eventsPerSecond: number;
  peakRssMb: number;
  totalMs: number;
}

async function seedTable(
  bench: Bench,
  events: number,
  progress: (line: string) => void,
): Promise<{ table: string; written: number; ms: number }> {
  const table = `bench_seed_${events}_${process.pid}`;
  await ensureTables(bench.dynamo, { ...bench.config.dynamodb.tables, events: table });
  const t0 = now();
  let written = 0;
  for (const chunk of generateShop({ events, seed: events, prefix: `b${events}` })) {
    await writeEvents(bench.dynamo, table, chunk, 8);
    written += chunk.length;
    if (written % 20_000 < chunk.length) progress(`seeded ${written} / ${events} events into ${table}`);
  }
  return { table, written, ms: now() - t0 };
}

/** `npm run rebuild` as its own process against `databaseUrl` and the given events table. */
function runRebuild(databaseUrl: string, table: string): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'cmd/rebuild.ts', '--batch-size', String(BATCH)], {
      env: { ...process.env, DATABASE_URL: databaseUrl, DYNAMODB_TABLE_EVENTS: table, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => void (out += String(c)));
    child.stderr.on('data', (c: Buffer) => void (out += String(c)));
    child.once('error', reject);
    child.once('exit', (code) => {
      const line = out.split('\n').find((l) => l.includes('read model rebuilt'));
      const num = (key: string) => Number(new RegExp(`\\b${key}=(\\d+)`).exec(line ?? '')?.[1] ?? NaN);
      if (code !== 0 || !line) return reject(new Error(`rebuild exited ${code}: ${out.split('\n').slice(-15).join('\n')}`));
      resolve({
        events: num('events'),
        eventsPerSecond: num('events_per_second'),
        peakRssMb: num('peak_rss_mb'),
        totalMs: num('total_ms'),
      });
    });
  });
}

/** The shop's read queries in a loop (the api's own SQL, in process): latencies, errors, order counts seen. */
async function readLoop(pool: pg.Pool, until: () => boolean): Promise<{ latencies: number[]; errors: number; minOrders: number }> {
  const q = createReadQueries({ pool });
  const ids = (await pool.query<{ order_id: string }>('SELECT order_id FROM read_orders ORDER BY order_id LIMIT 200')).rows.map(
    (r) => r.order_id,
  );
  const latencies: number[] = [];
  let errors = 0;
  let minOrders = Infinity;
  for (let i = 0; !until(); i++) {
    const t0 = now();
    try {
      switch (i % 4) {
        case 0:
          await q.listOrders({ limit: 20 });
          break;
        case 1:
          await q.getOrder(ids[i % Math.max(ids.length, 1)] ?? 'none');
          break;
        case 2:
          minOrders = Math.min(minOrders, (await q.orderStatistics()).total_count);
          break;
        default:
          await q.listProducts({ limit: 20 });
      }
      latencies.push(now() - t0);
    } catch {
      errors++;
    }
    await sleep(5);
  }
  return { latencies, errors, minOrders };
}

export async function benchRebuildScale(
  bench: Bench,
  projector: ProjectorFigures | undefined,
  progress: (line: string) => void,
): Promise<Row[]> {
  const small = await seedTable(bench, SMALL, progress);
  const large = await seedTable(bench, LARGE, progress);
  const smallDb = await scratchDatabase(bench.config.databaseUrl, `bench_rebuild_small_${process.pid}`, 2);
  const largeDb = await scratchDatabase(bench.config.databaseUrl, `bench_rebuild_large_${process.pid}`, 4);
  const urlOf = (pool: pg.Pool) => (pool.options as pg.PoolConfig).connectionString!;
  try {
    progress(`rebuilding ${small.written} events`);
    const s = await runRebuild(urlOf(smallDb), small.table);
    progress(`rebuilding ${large.written} events`);
    const l = await runRebuild(urlOf(largeDb), large.table);

    // Reads with no rebuild running, then during one (the same LARGE store rebuilt again, under the readers).
    const quietUntil = now() + 8_000;
    const quiet = await readLoop(largeDb, () => now() > quietUntil);
    let rebuilding = true;
    const during = readLoop(largeDb, () => !rebuilding);
    const again = await runRebuild(urlOf(largeDb), large.table).finally(() => void (rebuilding = false));
    const busy = await during;
    const p99 = (xs: number[]) =>
      percentile(
        [...xs].sort((a, b) => a - b),
        99,
      );
    const orders = Number((await largeDb.query('SELECT count(*) AS n FROM read_orders')).rows[0].n);

    const seeded = `seeded by src/devstack/seed.ts (npm run seed) into DynamoDB tables of their own (${small.written} events in ${ms(small.ms)}, ${large.written} in ${ms(large.ms)}: ${perSecond(Math.round((large.written / large.ms) * 1000), 'events')} with BatchWriteItem)`;
    return [
      {
        id: '3d',
        measurement: 'blue/green rebuild throughput (npm run rebuild, its own process)',
        n: `${l.events.toLocaleString('en-US')} events`,
        result: `${perSecond(l.eventsPerSecond, 'events')} (scan + apply); whole run incl. indexes and switch ${ms(l.totalMs)}`,
        comparison: `${projector ? `vs live projector (3a) ${ratio(l.eventsPerSecond / projector.eventsPerSecond)}; ` : ''}goal 20,000 events/s: ${ratio(l.eventsPerSecond / 20_000)}`,
        note: `${seeded}; cmd/rebuild.ts with its defaults (16 scan segments, each asking for its next page while the current one is applied; at most 4 batches in PostgreSQL at once, 8 pages held) through the projector's batch engine, batches of ${BATCH}, into a scratch database; then secondary indexes, catch-up and the switch.`,
      },
      {
        id: '3e',
        measurement: 'peak RSS of the rebuild process vs store size',
        n: `${s.events.toLocaleString('en-US')} vs ${l.events.toLocaleString('en-US')} events`,
        result: `${s.peakRssMb} MB vs ${l.peakRssMb} MB`,
        comparison: `${ratio(l.peakRssMb / s.peakRssMb)} for ${ratio(l.events / s.events)} the events`,
        note: `process.resourceUsage().maxRSS of cmd/rebuild.ts (Node + tsx + the AWS SDK included), reported by the process itself; at most 8 scan pages are held, whatever the store's size.`,
      },
      {
        id: '3f',
        measurement: 'shop read latency p99 during a rebuild vs without',
        n: `${busy.latencies.length} vs ${quiet.latencies.length} reads`,
        result: `${ms(p99(busy.latencies))} during vs ${ms(p99(quiet.latencies))} without; ${busy.errors} errors; orders never fewer than ${busy.minOrders} (of ${orders})`,
        comparison: `p99 ${ratio(p99(busy.latencies) / p99(quiet.latencies))}; the rebuild took ${ms(again.totalMs)}`,
        note: `one reader, in process, running the api's read queries (listOrders, getOrder, orderStatistics, listProducts in turn, 5 ms apart) on the ${l.events.toLocaleString('en-US')}-event read model, 8 s alone, then while the same store is rebuilt into it again (blue/green: it answers from the old tables until the switch).`,
      },
    ];
  } finally {
    await smallDb.end();
    await largeDb.end();
  }
}
