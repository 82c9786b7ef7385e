// A rebuild process to kill halfway (test/integration/projections-rebuild.test.ts): rebuilds from the events in
// the JSON file $EVENTS_FILE into $DATABASE_URL, and after the first scanned page says "scanning" and never
// finishes the scan — the parent then SIGKILLs it, as an operator or the OOM killer would.
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { rebuild } from '../../src/composition/projections/rebuild.ts';
import type { EventEnvelope } from '../../src/platform/shared/envelope.ts';

const events = JSON.parse(await readFile(process.env.EVENTS_FILE!, 'utf8')) as EventEnvelope[];
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL!, max: 4 });
await rebuild({
  pool,
  eventStore: {
    async readStream(id, o = {}) {
      return events
        .filter((e) => e.aggregate_id === id && e.version > (o.afterVersion ?? 0) && e.version <= (o.toVersion ?? Infinity))
        .sort((a, b) => a.version - b.version);
    },
    async scanAll(onPage) {
      await onPage(events.slice(0, Math.ceil(events.length / 3)));
      console.log('scanning');
      await new Promise(() => {});
    },
  },
  progressEveryMs: 50,
});
