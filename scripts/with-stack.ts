/**
 * Runs a command with the embedded stack around it: `tsx scripts/with-stack.ts -- node --test …`.
 * The stack's endpoints reach the command only through environment variables, exactly as in production.
 * Data lives in a temp directory and is removed afterwards; the exit code is the command's.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startStack } from '../src/devstack/stack.ts';

const sep = process.argv.indexOf('--');
const command = sep >= 0 ? process.argv.slice(sep + 1) : [];
if (command.length === 0) {
  console.error('usage: tsx scripts/with-stack.ts -- <command> [args…]');
  process.exit(2);
}
const dataDir = mkdtempSync(path.join(tmpdir(), 'ecshop-test-'));
const started = Date.now();
// STACK_SERVICES=dynamodb,postgres starts only those (handy while working on one part).
const services = process.env.STACK_SERVICES?.split(',').filter(Boolean) as Parameters<typeof startStack>[0]['services'];
const stack = await startStack({ dataDir, ephemeral: true, ...(services ? { services } : {}), log: (line) => process.env.STACK_VERBOSE && console.log(line) });
console.log(`embedded stack up in ${Date.now() - started} ms: ${JSON.stringify(stack.env)}`);
const child = spawn(command[0]!, command.slice(1), { stdio: 'inherit', env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...process.env, ...stack.env } });
const forward = (signal: NodeJS.Signals) => child.kill(signal);
process.on('SIGINT', forward);
process.on('SIGTERM', forward);
const code = await new Promise<number>((resolve) => child.on('exit', (c, s) => resolve(c ?? (s ? 1 : 0))));
await stack.stop();
rmSync(dataDir, { recursive: true, force: true });
process.exit(code);
