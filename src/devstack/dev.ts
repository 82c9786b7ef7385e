import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { isAlive } from './proc.ts';
import { spawnManaged, waitForPort } from './process.ts';
import { prepareInfrastructure } from './prepare.ts';
import { loadOrCreateSecrets } from './secrets.ts';
import { startStack, type Stack, type StackPorts } from './stack.ts';
import { supervise, type Backoff, type SupervisedService } from './supervisor.ts';

export const HELP = `usage: make dev [ARGS="…"]   (or: npx tsx cmd/dev.ts [options])
  --fresh            start from empty data (deletes the data dir, its secrets and its PostgreSQL cluster)
  --projectors N     projector processes (default 2)
  --data-dir DIR     where data lives (default .data)
  --host ADDRESS     address the api listens on (HOST, default 127.0.0.1; 0.0.0.0 shares it with the LAN)
  --no-browser       do not open the shop in the browser (also BROWSER=none; never when not on a terminal)
ports (flags or env): --api-port (PORT, 8080) --dynamodb-port (DYNAMODB_PORT, 8000) --postgres-port (PG_PORT, 5432)
  --kafka-port (KAFKA_PORT, 9092) --smtp-port (SMTP_PORT, 1025) --mail-port (MAIL_WEB_PORT, 1080)
The JWT secret and the admin password are generated once and kept in <data dir>/secrets.json (mode 600).
Every process is supervised: one that dies is restarted (backoff 0.5 s … 30 s) and the others keep running.`;

const OPTIONS = {
  fresh: { type: 'boolean', default: false },
  projectors: { type: 'string', default: '2' },
  'data-dir': { type: 'string' },
  host: { type: 'string' },
  'api-port': { type: 'string' },
  'dynamodb-port': { type: 'string' },
  'postgres-port': { type: 'string' },
  'kafka-port': { type: 'string' },
  'smtp-port': { type: 'string' },
  'mail-port': { type: 'string' },
  'no-browser': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** Parses the command line; throws a one-line message for a bad option. */
export function parseDevArgs(argv: string[]) {
  return parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }).values;
}

/**
 * `make dev`: the embedded stack plus every process of the shop as separate OS processes, exactly as in
 * production but without Docker, each under a supervisor. Ctrl-C (or SIGTERM, or `opts.stop`) stops the
 * processes first, then the stack.
 */
export async function runDev(argv: string[], root: string, opts: { stop?: AbortSignal; backoff?: Backoff } = {}): Promise<void> {
  const values = parseDevArgs(argv);
  if (values.help) {
    console.log(HELP);
    return;
  }
  const port = (flag: string | undefined, envName: string, fallback: number) => {
    const raw = flag ?? process.env[envName];
    const n = raw === undefined ? fallback : Number(raw);
    if (!Number.isInteger(n) || n <= 0 || n > 65535) throw new Error(`invalid port for ${envName}: ${raw}`);
    return n;
  };
  const projectors = Number(values.projectors);
  if (!Number.isInteger(projectors) || projectors < 1 || projectors > 16) throw new Error('--projectors must be 1..16');
  const apiPort = port(values['api-port'], 'PORT', 8080);
  const host = values.host ?? process.env.HOST ?? '127.0.0.1';
  const ports: StackPorts = {
    dynamodb: port(values['dynamodb-port'], 'DYNAMODB_PORT', 8000),
    postgres: port(values['postgres-port'], 'PG_PORT', 5432),
    kafka: port(values['kafka-port'], 'KAFKA_PORT', 9092),
    smtp: port(values['smtp-port'], 'SMTP_PORT', 1025),
    mailWeb: port(values['mail-port'], 'MAIL_WEB_PORT', 1080),
  };
  const dataDir = path.resolve(values['data-dir'] ?? path.join(root, '.data'));
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const started = Date.now();
  // These machines run Node 20; the SDK's notice about Node 22 would repeat once per process (this one too).
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

  const lock = lockDataDir(dataDir, Boolean(values.fresh));
  const kept = loadOrCreateSecrets(dataDir, { env: process.env, log });
  log(`starting the embedded stack in ${dataDir}${values.fresh ? ' (fresh)' : ''} …`);
  let stack: Stack | undefined;
  const shop: SupervisedService[] = [];
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    log('\nstopping processes …');
    await Promise.allSettled(shop.map((s) => s.stop()));
    log('stopping the embedded stack …');
    await stack?.stop();
    lock.release();
    log('stopped.');
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  opts.stop?.addEventListener('abort', () => void shutdown(0));
  try {
    stack = await startStack({ dataDir, ports, secrets: kept.secrets, log, ...(opts.backoff ? { backoff: opts.backoff } : {}) });
    await prepareInfrastructure({ ...stack.env, NODE_ENV: 'development' }, log);
    const env = {
      ...process.env,
      ...stack.env,
      NODE_ENV: 'development',
      HOST: host,
      PORT: String(apiPort),
      MAIL_UI_URL: stack.env.MAILDEV_URL ?? '',
    };
    const probeHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
    const define = (name: string, script: string, extra: Record<string, string> = {}, listens?: number) =>
      supervise(
        {
          name,
          spawn: () =>
            spawnManaged(name, process.execPath, ['--import', 'tsx', path.join(root, 'cmd', script)], {
              cwd: root,
              env: { ...env, ...extra },
              log,
              dieWithParent: true,
            }),
          ...(listens ? { ready: (proc) => waitForPort(listens, probeHost, 60_000, proc.exited) } : {}),
        },
        { log, ...(opts.backoff ? { backoff: opts.backoff } : {}) },
      );
    shop.push(define('api', 'api.ts', {}, apiPort));
    for (let i = 1; i <= projectors; i++) shop.push(define(`projector-${i}`, 'projector.ts', { INSTANCE_ID: `projector-${i}` }));
    shop.push(define('notifier', 'notifier.ts'), define('worker', 'worker.ts'));
    await Promise.all(shop.map((s) => s.start()));
    const relative = path.relative(process.cwd(), kept.file);
    const secretsFile = relative.startsWith('..') ? kept.file : relative;
    const admin = kept.legacy
      ? `${kept.secrets.admin_email} / the password it was created with (admin123 unless ADMIN_PASSWORD was set then; make dev-fresh generates one)`
      : `${kept.secrets.admin_email} / ${kept.secrets.admin_password}`;
    const shownUrl = `http://${host === '0.0.0.0' || host === '::' ? 'localhost' : host}:${apiPort}`;
    log(`
EC Shop is running (${((Date.now() - started) / 1000).toFixed(1)} s) — Ctrl-C stops everything
  shop + API      ${shownUrl}          (listening on ${host}${host === '127.0.0.1' ? '; --host 0.0.0.0 to share it' : ''})
  admin login     ${admin}
                  (in ${secretsFile} with the JWT secret${kept.created ? ', generated now' : ''}; make dev-fresh makes new ones)
  mail inbox      ${stack.env.MAILDEV_URL}          (MailDev: SMTP on ${ports.smtp})
  DynamoDB Local  ${stack.env.DYNAMODB_ENDPOINT}
  PostgreSQL      ${stack.env.DATABASE_URL}
                  (data in ${stack.postgresLocation ?? path.join(dataDir, 'postgres')})
  Kafka           ${stack.env.KAFKA_BROKERS}          (dev broker: kcat -b ${stack.env.KAFKA_BROKERS} -L)
  processes       api, projector ×${projectors}, notifier, worker — supervised: one that dies is restarted
  rebuild         DATABASE_URL='${stack.env.DATABASE_URL}' DYNAMODB_ENDPOINT=${stack.env.DYNAMODB_ENDPOINT} npm run rebuild
`);
    if (!values['no-browser']) openInBrowser(shownUrl, log);
  } catch (err) {
    log(`make dev failed: ${(err as Error).message}`);
    await shutdown(1);
  }
}

/**
 * One `make dev` per data dir: a second one would share its PostgreSQL cluster and broker data. `fresh`
 * wipes the directory once the lock is ours.
 */
function lockDataDir(dataDir: string, fresh: boolean): { release(): void } {
  const file = path.join(dataDir, 'dev.pid');
  if (existsSync(file)) {
    const holder = Number(readFileSync(file, 'utf8'));
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
      throw new Error(`another make dev (pid ${holder}) is using ${dataDir}: stop it first, or pass --data-dir`);
    }
  }
  if (fresh) rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, String(process.pid));
  return { release: () => rmSync(file, { force: true }) };
}

/**
 * The command that opens a URL in the desktop's browser, the way dev servers do it — or none: only for a person
 * at a terminal with a desktop (a display on Linux), never in CI or under a script. BROWSER names another
 * program, or `none`.
 */
export function browserCommand(env: NodeJS.ProcessEnv, platform: NodeJS.Platform, interactive: boolean): string | undefined {
  if (env.BROWSER === 'none' || env.CI || !interactive) return undefined;
  if (env.BROWSER) return env.BROWSER;
  if (platform === 'darwin') return 'open';
  if (platform === 'win32') return 'explorer';
  if (env.DISPLAY || env.WAYLAND_DISPLAY) return 'xdg-open';
  return env.WSL_DISTRO_NAME ? 'wslview' : undefined;
}

/** Never fatal: a browser that does not start only costs a log line. */
function openInBrowser(url: string, log: (line: string) => void): void {
  const command = browserCommand(process.env, process.platform, Boolean(process.stdout.isTTY));
  if (!command) return;
  const child = spawn(command, [url], { detached: true, stdio: 'ignore' });
  child.on('error', () => log(`(could not open a browser with ${command}: open ${url} yourself)`));
  child.unref();
}
