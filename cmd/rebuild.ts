// `npm run rebuild [-- --projection <family>] [--segments N] [--batch-size N]`: rebuild the read model, or one
// projection family, from the event store into a new schema and switch to it (blue/green, src/composition/projections/rebuild.ts; wiring in src/processes/rebuild.ts).
// Safe on a running shop: it answers from the old tables until the switch, the projector keeps running.
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/platform/shared/config.ts';
import { FAMILY_NAMES, familyOf } from '../src/composition/projections/families.ts';
import { runRebuild } from '../src/processes/rebuild.ts';
import { createLogger } from '../src/platform/shared/log.ts';

const log = createLogger('rebuild');
const usage = `usage: npm run rebuild [-- --projection <${FAMILY_NAMES.join('|')}>] [--segments N] [--batch-size N]`;
let args: { projection?: string; segments?: string; 'batch-size'?: string };
try {
  args = parseArgs({ options: { projection: { type: 'string' }, segments: { type: 'string' }, 'batch-size': { type: 'string' } } }).values;
  familyOf(args.projection);
} catch (err) {
  console.error(`${(err as Error).message}\n${usage}`);
  process.exit(2);
}
const positive = (name: string, value: string | undefined): number | undefined => {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) {
    console.error(`--${name} must be a positive integer\n${usage}`);
    process.exit(2);
  }
  return n;
};
const segments = positive('segments', args.segments);
const batchSize = positive('batch-size', args['batch-size']);

// No tokens here: the rebuild needs the stores' addresses (DATABASE_URL, DYNAMODB_ENDPOINT), not the secrets.
try {
  await runRebuild(
    loadConfig(process.env, { secrets: false }),
    { ...(args.projection ? { projection: args.projection } : {}), ...(segments ? { segments } : {}), ...(batchSize ? { batchSize } : {}) },
    log,
  );
} catch (err) {
  log.error('rebuild failed; the live read model is unchanged', { error: (err as Error).message });
  process.exitCode = 1;
}
