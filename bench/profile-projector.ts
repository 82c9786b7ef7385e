/**
 * Where a projector batch spends its time: the 3a workload (syntheticEvents, batches of 1,000, one scratch
 * database) with every statement timed and grouped by what it is, plus the raw side (the same rows, bench/lib/projector.ts rawBaseline) for the ratio. Needs
 * DATABASE_URL (e.g. `STACK_SERVICES=postgres npx tsx scripts/with-stack.ts -- npx tsx bench/profile-projector.ts`);
 * `node --cpu-prof --import tsx bench/profile-projector.ts` adds a CPU profile of the JavaScript part.
 */
import os from 'node:os';
import type pg from 'pg';
import { createProjectionRunner } from '../src/composition/projections/runner.ts';
import type { EventEnvelope } from '../src/platform/shared/envelope.ts';
import { rawBaseline, scratchDatabase, syntheticEvents } from './lib/projector.ts';

const EVENTS = Number(process.env.PROFILE_EVENTS ?? 20_000);
const BATCH = Number(process.env.PROFILE_BATCH ?? 1_000);
const url = process.env.DATABASE_URL;
if (!url) throw new Error('DATABASE_URL is required');

const timings = new Map<string, { n: number; ms: number }>();
const label = (sql: string) => sql.replace(/\s+/g, ' ').trim().slice(0, 70);
function timedPool(pool: pg.Pool): pg.Pool {
  return new Proxy(pool, {
    get(target, prop) {
      if (prop !== 'connect') {
        const v: unknown = Reflect.get(target, prop);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      }
      return async () => {
        const client = await target.connect();
        return new Proxy(client, {
          get(c, p) {
            const v: unknown = Reflect.get(c, p);
            if (p !== 'query') return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(c) : v;
            return (...args: unknown[]) => {
              const first = args[0];
              const text = typeof first === 'string' ? first : ((first as { text?: string }).text ?? 'COPY read_event_log (a stream)');
              const t0 = performance.now();
              const done = () => {
                const k = label(text);
                const t = timings.get(k) ?? { n: 0, ms: 0 };
                t.n++;
                t.ms += performance.now() - t0;
                timings.set(k, t);
              };
              const result = (c.query as (...a: unknown[]) => unknown).apply(c, args);
              // A COPY returns its stream (not a promise): timed until it finishes.
              if (result instanceof Promise) return result.finally(done);
              (result as NodeJS.EventEmitter).once('finish', done).once('error', done);
              return result;
            };
          },
        });
      };
    },
  });
}

const pool = await scratchDatabase(url, `profile_projector_${process.pid}`, 5);
try {
  const rawSide = await rawBaseline(pool);
  const runner = createProjectionRunner({ pool: rawSide.watch(timedPool(pool)) });
  const warm = syntheticEvents(1_000, 'warm');
  rawSide.begin();
  await runner.applyBatch(warm);
  rawSide.end();
  await rawSide.apply(warm);
  timings.clear();
  const events = syntheticEvents(EVENTS, 'prof');
  const batches: EventEnvelope[][] = [];
  for (let i = 0; i < events.length; i += BATCH) batches.push(events.slice(i, i + BATCH));
  let ours = 0;
  let raw = 0;
  for (const b of batches) {
    let t0 = performance.now();
    rawSide.begin();
    await runner.applyBatch(b);
    rawSide.end();
    ours += performance.now() - t0;
    t0 = performance.now();
    await rawSide.apply(b);
    raw += performance.now() - t0;
  }
  const same = await rawSide.compare();
  console.log(`raw and ours hold the same ${same.rows} rows in ${same.tables} tables`);
  const sql = [...timings.values()].reduce((s, t) => s + t.ms, 0);
  console.log(
    `load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}; ${EVENTS} events, batches of ${BATCH}`,
  );
  console.log(
    `ours ${ours.toFixed(0)} ms (${((EVENTS / ours) * 1000).toFixed(0)} events/s), raw ${raw.toFixed(0)} ms (${((EVENTS / raw) * 1000).toFixed(0)} events/s): x${(raw / ours).toFixed(2)}`,
  );
  console.log(`SQL ${sql.toFixed(0)} ms (${((100 * sql) / ours).toFixed(0)} %), JS ${(ours - sql).toFixed(0)} ms`);
  for (const [k, t] of [...timings].sort((a, b) => b[1].ms - a[1].ms)) {
    console.log(`${t.ms.toFixed(0).padStart(7)} ms ${((100 * t.ms) / ours).toFixed(1).padStart(5)} %  ${String(t.n).padStart(4)}×  ${k}`);
  }
} finally {
  await pool.end();
}
