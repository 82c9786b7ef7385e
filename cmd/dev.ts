// `make dev`: the embedded stack and every process of the shop, with URLs printed. See src/devstack/dev.ts.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { HELP, parseDevArgs, runDev } from '../src/devstack/dev.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const argv = process.argv.slice(2);

let help = false;
try {
  help = Boolean(parseDevArgs(argv).help);
} catch (err) {
  console.error(`make dev: ${(err as Error).message}\n\n${HELP}`);
  process.exit(2);
}

if (help) {
  console.log(HELP);
} else if (process.env.EC_SHOP_DEV_SUPERVISED) {
  // The supervisor and everything it starts run in their own process group, so a terminal's Ctrl-C reaches
  // only the launcher below, which asks for a stop over stdin: the shop's processes must finish their
  // batches before the databases and the broker go away, not all receive SIGINT at the same moment.
  const stop = new AbortController();
  process.stdin.on('data', (chunk: Buffer) => chunk.toString().includes('stop') && stop.abort());
  process.stdin.on('close', () => stop.abort()); // the launcher is gone
  runDev(argv, root, { stop: stop.signal }).catch((err: Error) => {
    console.error(`make dev failed: ${err.message}`);
    process.exit(1);
  });
} else {
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...argv], {
    detached: true,
    stdio: ['pipe', 'inherit', 'inherit'],
    env: { ...process.env, EC_SHOP_DEV_SUPERVISED: '1' },
  });
  let firstAt = 0;
  const forward = () => {
    if (firstAt === 0) {
      firstAt = Date.now();
      child.stdin?.write('stop\n');
      return;
    }
    // A second Ctrl-C means "now": kill the whole group. A wrapper such as the tsx CLI relays the same Ctrl-C
    // again within milliseconds when it is slow to see it arrive; that one must not count as a second.
    if (Date.now() - firstAt > 1000) process.kill(-child.pid!, 'SIGKILL');
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  child.on('exit', (code) => process.exit(code ?? 1));
}
