// `npm run seed -- --events 200000 [--seed N]`: a realistic shop history written straight into the DynamoDB event
// store (src/devstack/seed.ts), against the configured stack (DYNAMODB_ENDPOINT). Then `npm run rebuild` projects it.
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/platform/shared/config.ts';
import { generateShop, writeEvents } from '../src/devstack/seed.ts';
import { createDynamoClient, ensureTables } from '../src/platform/eventstore/index.ts';

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

const config = loadConfig(process.env, { secrets: false });
const client = createDynamoClient({
  ...(config.dynamodb.endpoint ? { endpoint: config.dynamodb.endpoint } : {}),
  region: config.dynamodb.region,
});
try {
  await ensureTables(client, config.dynamodb.tables);
  const started = Date.now();
  let written = 0;
  let lastLog = started;
  let pending: Promise<void> = Promise.resolve();
  for (const chunk of generateShop({ events, seed, ...(values.prefix ? { prefix: values.prefix } : {}) })) {
    // Generate the next chunk while the previous one is written; at most two chunks in memory.
    await pending;
    pending = writeEvents(client, config.dynamodb.tables.events, chunk).then(() => {
      written += chunk.length;
      if (Date.now() - lastLog > 2000) {
        lastLog = Date.now();
        console.log(`seed: ${written} / ~${events} events, ${Math.round((written / (Date.now() - started)) * 1000)} events/s`);
      }
    });
  }
  await pending;
  const s = (Date.now() - started) / 1000;
  console.log(
    `seed: wrote ${written} events in ${s.toFixed(1)} s (${Math.round(written / s)} events/s) into ${config.dynamodb.tables.events}; run \`npm run rebuild\` to project them`,
  );
} finally {
  client.destroy();
}
