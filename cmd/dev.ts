// `make dev`: the embedded stack and every process of the shop, with URLs printed. See src/devstack/dev.ts.
import { fileURLToPath } from 'node:url';
import { runDev } from '../src/devstack/dev.ts';

runDev(process.argv.slice(2), fileURLToPath(new URL('..', import.meta.url))).catch((err: Error) => {
  console.error(`make dev failed: ${err.message}`);
  process.exit(1);
});
