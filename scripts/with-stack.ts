/**
 * Runs a command with the embedded stack around it: `tsx scripts/with-stack.ts -- node --test …`.
 * The stack's endpoints reach the command only through environment variables, exactly as in production,
 * with secrets generated for this run (JWT_SECRET, ADMIN_EMAIL, ADMIN_PASSWORD): no test depends on a value
 * written in the repository. Each service is supervised (a killed broker comes back on the same port with
 * its data); STACK_CONTROL_URL / STACK_CONTROL_TOKEN let fault tests see pids and hold a service down
 * (src/devstack/control.ts, test/support/stack.ts). Data lives in a temp directory and is removed afterwards;
 * the exit code is the command's.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startControlServer } from '../src/devstack/control.ts';
import { startStack, type ServiceName } from '../src/devstack/stack.ts';

const sep = process.argv.indexOf('--');
const command = sep >= 0 ? process.argv.slice(sep + 1) : [];
if (command.length === 0) {
  console.error('usage: tsx scripts/with-stack.ts -- <command> [args…]');
  process.exit(2);
}
const dataDir = mkdtempSync(path.join(tmpdir(), 'ecshop-test-'));
const started = Date.now();
// STACK_SERVICES=dynamodb,postgres starts only those (handy while working on one part).
const services = process.env.STACK_SERVICES?.split(',').filter(Boolean) as ServiceName[] | undefined;
const log = (line: string) => {
  // Deaths and restarts matter to whoever reads a failed run; the rest only when asked for.
  if (process.env.STACK_VERBOSE || line.startsWith('[supervisor]')) console.log(line);
};
let stack: Awaited<ReturnType<typeof startStack>>;
try {
  stack = await startStack({ dataDir, ephemeral: true, ...(services ? { services } : {}), log });
} catch (err) {
  rmSync(dataDir, { recursive: true, force: true });
  console.error(`with-stack: the embedded stack did not start: ${(err as Error).message}`);
  process.exit(1);
}
const control = await startControlServer(stack.services);
const { JWT_SECRET: _secret, ADMIN_PASSWORD: _password, ...shown } = stack.env;
console.log(`embedded stack up in ${Date.now() - started} ms: ${JSON.stringify(shown).replace(/:\/\/([^:]+):[^@]+@/, '://$1:…@')}`);
const child = spawn(command[0]!, command.slice(1), {
  stdio: 'inherit',
  env: {
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...process.env,
    ...stack.env,
    STACK_CONTROL_URL: control.url,
    STACK_CONTROL_TOKEN: control.token,
  },
});
const forward = (signal: NodeJS.Signals) => child.kill(signal);
process.on('SIGINT', forward);
process.on('SIGTERM', forward);
const code = await new Promise<number>((resolve) => child.on('exit', (c, s) => resolve(c ?? (s ? 1 : 0))));
await control.close();
await stack.stop();
rmSync(dataDir, { recursive: true, force: true });
process.exit(code);
