// The projector process. All wiring is in src/processes/projector.ts.
import { loadConfig } from '../src/platform/shared/config.ts';
import { stopOnSignals } from '../src/processes/consumer-process.ts';
import { startProjector } from '../src/processes/projector.ts';
import { createLogger } from '../src/platform/shared/log.ts';

const log = createLogger(process.env.INSTANCE_ID ?? 'projector');
const running = await startProjector(loadConfig(process.env, { secrets: false }), log);
stopOnSignals(log, running.stop);
