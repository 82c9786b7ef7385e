// The worker process: process managers and timers. All wiring is in src/processes/worker.ts.
import { loadConfig } from '../src/platform/shared/config.ts';
import { stopOnSignals } from '../src/processes/consumer-process.ts';
import { startWorker } from '../src/processes/worker.ts';
import { createLogger } from '../src/platform/shared/log.ts';

const log = createLogger('worker');
const running = await startWorker(loadConfig(process.env, { secrets: false }), log);
stopOnSignals(log, running.stop);
