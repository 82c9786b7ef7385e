// The api process: HTTP commands and queries, and the SPA. All wiring is in src/processes/api.ts.
import { loadConfig } from '../src/platform/shared/config.ts';
import { buildApi } from '../src/processes/api.ts';
import { createLogger } from '../src/platform/shared/log.ts';

const log = createLogger('api');
const api = await buildApi(loadConfig(), log);
const { port } = await api.start();
log.info(`listening on http://localhost:${port}`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal}: shutting down`);
    await api.stop();
    process.exit(0);
  });
}
