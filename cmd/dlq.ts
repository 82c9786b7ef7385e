// `npm run dlq -- list [--status open|replayed|discarded] | replay <partition:offset> | discard <partition:offset>`
// and `npm run dlq -- parked | retry <aggregate_id>`: the dead-letter topic and parked streams, from a terminal.
// The wiring is in src/processes/dlq.ts.
import { loadConfig } from '../src/platform/shared/config.ts';
import { DLQ_COMMANDS, runDlqCommand, type DlqCommand } from '../src/processes/dlq.ts';
import { createLogger } from '../src/platform/shared/log.ts';

const USAGE =
  'usage: npm run dlq -- list [--status open|replayed|discarded] | replay <partition:offset> | discard <partition:offset> | parked | retry <aggregate_id>';
const [command, arg, value] = process.argv.slice(2);
if (!DLQ_COMMANDS.includes(command as DlqCommand)) {
  process.stderr.write(`${USAGE}\n`);
  process.exit(2);
}
const options = command === 'list' ? (arg === '--status' && value ? { status: value } : {}) : arg ? { arg } : {};
try {
  const result = await runDlqCommand(loadConfig(process.env, { secrets: false }), command as DlqCommand, options, createLogger('dlq'));
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
  process.exitCode = 1;
}
