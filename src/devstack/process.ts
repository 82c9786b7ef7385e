import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import net from 'node:net';

export interface ManagedProcess {
  name: string;
  child: ChildProcess;
  pid: number | undefined;
  /** Resolves when the process has exited (for any reason). */
  exited: Promise<number | null>;
  stop(timeoutMs?: number): Promise<void>;
}

export type Log = (line: string) => void;

export interface ManagedOptions extends SpawnOptions {
  log?: Log;
  /** Print none of the child's output. */
  quiet?: boolean;
  /** Print only the lines this accepts. */
  filter?: (line: string) => boolean;
  /**
   * The kernel kills the child when this process dies, even by SIGKILL (PR_SET_PDEATHSIG through util-linux
   * `setpriv`), so a killed launcher leaves no database or server holding its port. Ignored where `setpriv`
   * is missing.
   */
  dieWithParent?: boolean;
}

/**
 * Spawns a child whose output is prefixed with its name, line by line. `stop` sends SIGTERM and escalates to
 * SIGKILL so a stuck child can never keep `make dev` or a test run from finishing.
 */
export function spawnManaged(name: string, command: string, args: string[], opts: ManagedOptions = {}): ManagedProcess {
  const log = opts.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const { log: _log, quiet, filter, dieWithParent, ...spawnOpts } = opts;
  const [cmd, argv] = dieWithParent && canDieWithParent() ? ['setpriv', ['--pdeathsig', 'KILL', '--', command, ...args]] : [command, args];
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], ...spawnOpts });
  const prefix = (chunk: Buffer) => {
    if (quiet) return;
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim() && (!filter || filter(line))) log(`[${name}] ${line}`);
  };
  child.stdout?.on('data', prefix);
  child.stderr?.on('data', prefix);
  // Safety net: if this process exits without a clean stop (an uncaught error, a library's exit hook), take
  // the child with it instead of leaving a database or server holding its port.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      process.removeListener('exit', killOnExit);
      resolve(code);
    });
    child.once('error', (err) => {
      log(`[${name}] failed to start: ${err.message}`);
      resolve(null);
    });
  });
  return {
    name,
    child,
    pid: child.pid,
    exited,
    async stop(timeoutMs = 5000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Resolves once something accepts TCP connections on host:port, or rejects after timeoutMs. */
export async function waitForPort(port: number, host = '127.0.0.1', timeoutMs = 30_000, died?: Promise<unknown>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let dead = false;
  void died?.then(() => (dead = true));
  for (;;) {
    if (dead) throw new Error(`process exited before ${host}:${port} accepted connections`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ port, host });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${host}:${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** True when nothing listens on the port yet (used to fail fast with a clear message on a port clash). */
export async function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/**
 * A port nothing listens on now, for a service started next. Taken at random below Linux's ephemeral range
 * (32768–60999 by default): a port the kernel handed out (`listen(0)`) is one it also gives to outgoing
 * connections, so any process's next connect may take it between this check and the service's bind — seen as
 * a test server dying of EADDRINUSE while the port answered for someone else.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (await isPortFree(port, host)) return port;
  }
  return listenOnce(0, host);
}

function listenOnce(port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(bound));
    });
  });
}

let pdeathsig: boolean | undefined;
/** util-linux `setpriv --pdeathsig` (Linux, util-linux ≥ 2.33); a fact of the machine, probed once. */
function canDieWithParent(): boolean {
  if (pdeathsig === undefined) {
    const probe = process.platform === 'linux' ? spawnSync('setpriv', ['--help'], { encoding: 'utf8' }) : undefined;
    pdeathsig = Boolean(probe && probe.status === 0 && probe.stdout.includes('--pdeathsig'));
  }
  return pdeathsig;
}
