// The notifier process. All wiring is in src/processes/notifier.ts.
import { loadConfig } from '../src/platform/shared/config.ts';
import { stopOnSignals } from '../src/processes/consumer-process.ts';
import { startNotifier } from '../src/processes/notifier.ts';
import { createLogger } from '../src/platform/shared/log.ts';

const log = createLogger(process.env.INSTANCE_ID ?? 'notifier');
const running = await startNotifier(loadConfig(process.env, { secrets: false }), log);
stopOnSignals(log, running.stop);
