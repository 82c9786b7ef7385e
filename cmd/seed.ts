// `npm run seed -- --events 200000 [--seed N]`: a realistic shop history written straight into the DynamoDB event
// store (src/devstack/seed.ts; wiring in src/devstack/seed-run.ts), against the configured stack (DYNAMODB_ENDPOINT).
// Then `npm run rebuild` projects it.
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/platform/shared/config.ts';
import { runSeed } from '../src/devstack/seed-run.ts';

const usage = 'usage: npm run seed -- --events <N> [--seed <N>] [--prefix <id prefix>]';
let values: { events?: string; seed?: string; prefix?: string };
try {
  values = parseArgs({ options: { events: { type: 'string' }, seed: { type: 'string' }, prefix: { type: 'string' } } }).values;
} catch (err) {
  console.error(`${(err as Error).message}\n${usage}`);
  process.exit(2);
}
const events = Number(values.events ?? '20000');
const seed = Number(values.seed ?? '1');
if (!Number.isSafeInteger(events) || events < 1 || events > 50_000_000 || !Number.isSafeInteger(seed)) {
  console.error(`--events must be an integer from 1 to 50,000,000 and --seed an integer\n${usage}`);
  process.exit(2);
}
if (values.prefix !== undefined && !/^[a-z0-9-]{1,40}$/.test(values.prefix)) {
  console.error(`--prefix: lower-case letters, digits and dashes, at most 40\n${usage}`);
  process.exit(2);
}

const report = await runSeed(
  loadConfig(process.env, { secrets: false }),
  { events, seed, ...(values.prefix ? { prefix: values.prefix } : {}) },
  (line) => console.log(line),
);
console.log(
  `seed: wrote ${report.written} events in ${report.seconds.toFixed(1)} s (${Math.round(report.written / report.seconds)} events/s) into ${report.table}; run \`npm run rebuild\` to project them`,
);
