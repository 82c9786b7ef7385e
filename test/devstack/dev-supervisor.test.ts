/**
 * `make dev` as a user runs it (cmd/dev.ts, on free ports and a temp data dir): its secrets, its loopback
 * listeners, and its supervision — kill -9 the broker, the api and the postmaster, and each comes back while
 * the others keep running, with nothing left behind as a zombie (checked in /proc); Ctrl-C then stops
 * everything. It starts its own embedded stack, so it runs on its own (`make test-dev`, `npm run test:dev`),
 * not under scripts/with-stack.ts: alongside the other end-to-end files it would be two stacks on two cores.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { childrenOf, commandLine, processStatus, processTree } from '../../src/devstack/proc.ts';
import { freePort, waitForPort } from '../../src/devstack/process.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PUBLISHED_SECRET = 'dev-only-secret-change-me-0123456789abcdef';

let dataDir: string;
let dev: ChildProcess;
let output = '';
let ports: { api: number; dynamodb: number; postgres: number; kafka: number; smtp: number; mail: number };
let exited: Promise<number | null>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n--- make dev output (tail) ---\n${output.slice(-4000)}`);
    await sleep(200);
  }
}

/** The supervisor: the child cmd/dev.ts re-executes itself as (in its own process group). */
const supervisor = (): number | undefined => childrenOf(dev.pid!).find((pid) => commandLine(pid).some((a) => a.endsWith('cmd/dev.ts')));
/** The supervisor's children by what they run. */
function children(): Record<string, number> {
  const found: Record<string, number> = {};
  for (const pid of childrenOf(supervisor() ?? -1)) {
    const argv = commandLine(pid).join(' ');
    const kind =
      /cmd\/(api|projector|notifier|worker)\.ts/.exec(argv)?.[1] ??
      (/kafka-dev-broker\.ts/.test(argv)
        ? 'broker'
        : /bin\/postgres /.test(argv)
          ? 'postgres'
          : /java /.test(argv)
            ? 'dynamodb'
            : /maildev/.test(argv)
              ? 'maildev'
              : undefined);
    if (kind && processStatus(pid)?.state !== 'Z') found[kind] = pid;
  }
  return found;
}
/** The postmaster itself (under `unshare` when running as root). */
const postmaster = (wrapper: number): number => (commandLine(wrapper)[0] === 'unshare' ? childrenOf(wrapper)[0]! : wrapper);
const zombiesUnder = (pids: number[]) => pids.flatMap((p) => childrenOf(p)).filter((p) => processStatus(p)?.state === 'Z');
/** Gone: reaped (no /proc entry), or the pid was reused by something that is neither ours nor a zombie. */
const gone = (pid: number, argv: string) => {
  const status = processStatus(pid);
  return status === undefined || (status.state !== 'Z' && commandLine(pid).join(' ') !== argv);
};

function sign(payload: object, secret: string): string {
  const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(payload)}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}

before(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'ecshop-dev-test-'));
  ports = {
    api: await freePort(),
    dynamodb: await freePort(),
    postgres: await freePort(),
    kafka: await freePort(),
    smtp: await freePort(),
    mail: await freePort(),
  };
  // Nothing of the test stack's environment may leak in: make dev must bring its own secrets and endpoints.
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !/^(JWT_SECRET|ADMIN_|DATABASE_URL|DYNAMODB_|KAFKA_|SMTP_|MAILDEV_|STACK_|NODE_ENV|PORT|HOST)/.test(k))
      env[k] = v;
  const args = ['--import', 'tsx', path.join(ROOT, 'cmd', 'dev.ts'), '--data-dir', dataDir, '--projectors', '1'];
  args.push('--api-port', String(ports.api), '--dynamodb-port', String(ports.dynamodb), '--postgres-port', String(ports.postgres));
  args.push('--kafka-port', String(ports.kafka), '--smtp-port', String(ports.smtp), '--mail-port', String(ports.mail));
  dev = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  dev.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  dev.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  exited = new Promise((resolve) => dev.once('exit', (code) => resolve(code)));
  await until('make dev to start', () => output.includes('EC Shop is running'), 240_000);
});

after(async () => {
  if (dev.exitCode === null && dev.signalCode === null) {
    dev.kill('SIGINT');
    await Promise.race([exited, sleep(60_000)]);
    if (dev.exitCode === null) dev.kill('SIGKILL');
  }
  const location = path.join(dataDir, 'postgres.location');
  if (existsSync(location)) rmSync(path.dirname(readFileSync(location, 'utf8').trim()), { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

test('make dev keeps its generated secrets in the data dir (mode 600) and refuses a token signed with a secret from the repository', async () => {
  const file = path.join(dataDir, 'secrets.json');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const secrets = JSON.parse(readFileSync(file, 'utf8')) as { jwt_secret: string; admin_email: string; admin_password: string };
  assert.ok(secrets.jwt_secret.length >= 32 && secrets.jwt_secret !== PUBLISHED_SECRET);
  assert.ok(output.includes(`admin login     ${secrets.admin_email} / ${secrets.admin_password}`), 'the banner says how to log in');
  assert.ok(
    output.includes(`DYNAMODB_ENDPOINT=http://127.0.0.1:${ports.dynamodb} npm run rebuild`),
    'the banner has the rebuild command for these ports',
  );
  const base = `http://127.0.0.1:${ports.api}`;
  const login = await fetch(`${base}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: secrets.admin_email, password: secrets.admin_password }),
  });
  assert.equal(login.status, 200, await login.clone().text());
  const token = ((await login.json()) as { access_token: string }).access_token;
  const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as object;
  const asAdmin = (t: string) => fetch(`${base}/orders/statistics`, { headers: { authorization: `Bearer ${t}` } }).then((r) => r.status);
  assert.equal(await asAdmin(sign(payload, secrets.jwt_secret)), 200, 're-signing the same claims with the real secret works (control)');
  assert.equal(
    await asAdmin(sign(payload, PUBLISHED_SECRET)),
    401,
    'the same claims signed with the secret this repository once published',
  );
});

test('every listener of make dev is on loopback', () => {
  const ours = new Set(processTree(supervisor()!));
  const listening = spawnSync('ss', ['-ltnpH'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  const mine = listening.filter((line) => [...line.matchAll(/pid=(\d+)/g)].some((m) => ours.has(Number(m[1]))));
  assert.ok(mine.length >= 7, `found the stack's and the shop's listeners:\n${mine.join('\n')}`);
  for (const line of mine) {
    const local = line.trim().split(/\s+/)[3]!;
    assert.match(local, /^(127\.0\.0\.1|\[::ffff:127\.0\.0\.1\]|\[::1\]):\d+$/, `not on loopback: ${line}`);
  }
});

test('kill -9 of the broker and the api: both come back on their ports, the other processes keep running, no zombie', async () => {
  const sup = supervisor()!;
  const before = children();
  for (const kind of ['broker', 'api', 'projector', 'notifier', 'worker', 'postgres', 'dynamodb', 'maildev'])
    assert.ok(before[kind], `${kind} runs (${JSON.stringify(before)})`);
  const argvOf = Object.fromEntries(Object.entries(before).map(([k, pid]) => [k, commandLine(pid).join(' ')]));
  process.kill(before.broker!, 'SIGKILL');
  process.kill(before.api!, 'SIGKILL');
  const now = await until('a new broker and api', () => {
    const c = children();
    return c.broker && c.broker !== before.broker && c.api && c.api !== before.api ? c : undefined;
  });
  await waitForPort(ports.kafka, '127.0.0.1', 60_000);
  await until('the api to answer', () =>
    fetch(`http://127.0.0.1:${ports.api}/healthz`).then(
      (r) => r.ok,
      () => false,
    ),
  );
  for (const kind of ['projector', 'notifier', 'worker', 'postgres', 'dynamodb', 'maildev'])
    assert.equal(now[kind], before[kind], `${kind} was not touched`);
  assert.ok(gone(before.broker!, argvOf.broker!) && gone(before.api!, argvOf.api!), 'the killed processes are reaped');
  assert.deepEqual(zombiesUnder([sup, ...Object.values(now)]), [], 'no zombie under the supervisor or its children');
  assert.match(
    output,
    new RegExp(`\\[supervisor\\] kafka \\(pid ${before.broker}\\) was killed by SIGKILL after [\\d.]+ s; restarting in [\\d.]+ s`),
  );
  assert.match(output, new RegExp(`\\[supervisor\\] api \\(pid ${before.api}\\) was killed by SIGKILL`));
  await until('the supervisor to report the broker back', () => /\[supervisor\] kafka is back \(pid \d+/.test(output));
});

test('kill -9 of the postmaster: PostgreSQL comes back, and none of its backends is left behind', async () => {
  const sup = supervisor()!;
  const wrapper = children().postgres!;
  const pm = postmaster(wrapper);
  const backends = childrenOf(pm);
  assert.ok(backends.length >= 3, `the postmaster has its backends (${backends.join(', ')})`);
  const argvs = new Map([pm, ...backends].map((p) => [p, commandLine(p).join(' ')]));
  process.kill(pm, 'SIGKILL');
  const next = await until('a new postmaster', () => {
    const w = children().postgres;
    return w && w !== wrapper && postmaster(w) !== pm ? w : undefined;
  });
  await waitForPort(ports.postgres, '127.0.0.1', 60_000);
  await until('the old backends to be gone', () => [...argvs].every(([p, argv]) => gone(p, argv)), 30_000);
  assert.deepEqual(zombiesUnder([sup, next, postmaster(next)]), []);
  // As root the postmaster runs under `unshare`, which reports its death as an exit code.
  assert.match(output, new RegExp(`\\[supervisor\\] postgres \\(pid ${pm}\\) (was killed by SIGKILL|exited with code \\d+)`));
  await until('the supervisor to report PostgreSQL back', () => /\[supervisor\] postgres is back/.test(output));
});

test('Ctrl-C stops the processes, then the stack, and leaves nothing running', async () => {
  const sup = supervisor()!;
  const all = processTree(sup).map((pid) => [pid, commandLine(pid).join(' ')] as const);
  dev.kill('SIGINT');
  assert.equal(await Promise.race([exited, sleep(90_000).then(() => 'timeout')]), 0, output.slice(-3000));
  const stopping = output.lastIndexOf('stopping processes');
  assert.ok(
    stopping > 0 && output.indexOf('stopping the embedded stack', stopping) > stopping && output.trimEnd().endsWith('stopped.'),
    output.slice(-2000),
  );
  await until('every process of make dev to be gone', () => all.every(([pid, argv]) => gone(pid, argv)), 30_000);
  for (const port of Object.values(ports))
    assert.equal(
      await waitForPort(port, '127.0.0.1', 100).then(
        () => true,
        () => false,
      ),
      false,
      `port ${port} is closed`,
    );
});

test('cmd/dev.ts --help prints the usage and exits 0; an unknown option exits 2', () => {
  const help = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'cmd', 'dev.ts'), '--help'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /usage: make dev/);
  const bad = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'cmd', 'dev.ts'), '--no-such-option'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /no-such-option[\s\S]*usage: make dev/);
});
