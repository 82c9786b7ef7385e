/**
 * A shop of its own for fault tests: the real processes (startShop) against a Kafka broker, a mail server,
 * event store tables and a read-model database that belong to this shop alone, so that freezing or killing
 * one of them touches nothing else running on the machine, and "everything in the read model" and "every mail
 * in the inbox" mean this shop's. DynamoDB Local is the stack's (only its tables are private).
 *
 * The broker runs as its own OS process (packages/kafka-dev-broker), so it can be frozen (SIGSTOP) or killed alone and
 * restarted on the same port and data directory. PostgreSQL is either a database on the stack's server or, for
 * tests that freeze it, a server of its own whose every process can be stopped; that server and the mail server
 * come from an embedded stack of this shop's own (src/devstack/stack.ts, only those services).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { loadConfig } from '../../src/platform/shared/config.ts';
import { processTree } from '../../src/devstack/proc.ts';
import { freePort, spawnManaged, waitForPort, type ManagedProcess } from '../../src/devstack/process.ts';
import { startStack, type Stack } from '../../src/devstack/stack.ts';
import type { EventStore } from '../../src/platform/eventstore/types.ts';
import { connectEventStore } from '../../src/processes/infra.ts';
import { orderMailKind } from '../../src/contexts/orders/mail.ts';
import { uniq } from './env.ts';
import { eventually } from './http.ts';
import { startShop, type ShopProcesses } from './processes.ts';
import { allStoreVersions, assertEqualsRebuild, behind, type ReadModelTarget } from './read-model.ts';
import { shopActors, type Customer, type ShopActors } from './shop.ts';
import { errorRate, summary, until, workloads, type Workload } from './workload.ts';
import { BROKER_BIN } from 'kafka-dev-broker';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Only the stack's DynamoDB Local and PostgreSQL are used (STACK_SERVICES=dynamodb,postgres is enough). */
const stackDatabaseUrl = (): string => {
  const url = process.env.DATABASE_URL;
  if (!url || !process.env.DYNAMODB_ENDPOINT)
    throw new Error('DATABASE_URL and DYNAMODB_ENDPOINT are not set: run through scripts/with-stack.ts (make test)');
  return url;
};

// ─── a broker process ────────────────────────────────────────────────────────────────────────────────────────

export interface BrokerProcess {
  port: number;
  readonly process: ManagedProcess;
  freeze(): void;
  thaw(): void;
  /** SIGKILL, and wait for the exit. */
  kill(): Promise<void>;
  /** A new broker process on the same port and data directory. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startBrokerProcess(opts: { log?: (line: string) => void } = {}): Promise<BrokerProcess> {
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'ecshop-faults-kafka-'));
  let proc: ManagedProcess;
  const spawn = async () => {
    proc = spawnManaged('broker', process.execPath, ['--import', 'tsx', BROKER_BIN, '--port', String(port), '--data-dir', dataDir], {
      cwd: ROOT,
      env: process.env,
      log: opts.log ?? ((line) => process.env.SHOP_VERBOSE && console.log(line)),
    });
    await waitForPort(port, '127.0.0.1', 30_000, proc.exited);
  };
  await spawn();
  return {
    port,
    get process() {
      return proc;
    },
    freeze: () => void proc.child.kill('SIGSTOP'),
    thaw: () => void proc.child.kill('SIGCONT'),
    async kill() {
      proc.child.kill('SIGKILL');
      await proc.exited;
    },
    restart: spawn,
    async stop() {
      proc.child.kill('SIGCONT');
      await proc.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// ─── a PostgreSQL server of its own ──────────────────────────────────────────────────────────────────────────

export interface PostgresServer {
  url: string;
  /** The postmaster and every backend and auxiliary process it forked. */
  pids(): number[];
  /** SIGSTOP every process of the cluster: the whole server stops answering, connections stay open. */
  freeze(): number[];
  thaw(): void;
  stop(): Promise<void>;
}

/** The mail server and, when asked for, a PostgreSQL server of this shop's own: an embedded stack of just those. */
async function startOwnServers(
  ownPostgres: boolean,
): Promise<{ stack: Stack; mail: MailServer; postgres?: PostgresServer; stop(): Promise<void> }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'ecshop-faults-'));
  const quiet = (line: string) => process.env.SHOP_VERBOSE && console.log(line);
  const stack = await startStack({ dataDir, ephemeral: true, services: ownPostgres ? ['postgres', 'mail'] : ['mail'], log: quiet });
  const stop = async () => {
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  const mail: MailServer = { smtpPort: stack.ports.smtp, webUrl: stack.env.MAILDEV_URL! };
  if (!ownPostgres) return { stack, mail, stop };
  const postmaster = () => {
    const pid = stack.services.postgres?.info().pid;
    if (pid === undefined) throw new Error("the shop's PostgreSQL is not running");
    return pid;
  };
  let frozen: number[] = [];
  const signal = (pid: number, sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      /* exited meanwhile */
    }
  };
  const postgres: PostgresServer = {
    url: stack.env.DATABASE_URL!,
    pids: () => processTree(postmaster()),
    freeze() {
      // The postmaster first, so that it forks no new backend while the others are being stopped.
      const main = postmaster();
      signal(main, 'SIGSTOP');
      frozen = processTree(main);
      for (const pid of frozen.slice(1)) signal(pid, 'SIGSTOP');
      return frozen;
    },
    thaw() {
      for (const pid of [...frozen].reverse()) signal(pid, 'SIGCONT');
      frozen = [];
    },
    async stop() {
      for (const pid of frozen) signal(pid, 'SIGCONT');
    },
  };
  return {
    stack,
    mail,
    postgres,
    stop: async () => {
      await postgres.stop();
      await stop();
    },
  };
}

export interface MailServer {
  smtpPort: number;
  /** MailDev's web and REST API (`/email`). */
  webUrl: string;
}

// ─── the shop ────────────────────────────────────────────────────────────────────────────────────────────────

export interface FaultShop {
  shop: ShopProcesses;
  a: ShopActors;
  admin: string;
  broker: BrokerProcess;
  postgres?: PostgresServer;
  mail: MailServer;
  /** The shop's own event store tables. */
  store: EventStore;
  /** The shop's read model (and the connection for rebuilds beside it). */
  target: ReadModelTarget;
  live: pg.Pool;
  stop(): Promise<void>;
}

export async function startFaultShop(opts: { ownPostgres?: boolean; projectors?: number } = {}): Promise<FaultShop> {
  const id = uniq('faults').replace(/-/g, '_');
  const cleanup: Array<() => Promise<unknown>> = [];
  const stopAll = async () => {
    for (const step of cleanup.reverse()) await step().catch(() => {});
  };
  try {
    // The three servers start side by side: setup counts against the runner's per-file timeout.
    const privateDatabase = async (): Promise<string> => {
      const server = new pg.Client({ connectionString: stackDatabaseUrl() });
      await server.connect();
      await server.query(`CREATE DATABASE ${id}`).finally(() => server.end());
      cleanup.push(async () => {
        const c = new pg.Client({ connectionString: stackDatabaseUrl() });
        await c.connect();
        await c.query(`DROP DATABASE IF EXISTS ${id} WITH (FORCE)`).finally(() => c.end());
      });
      const url = new URL(stackDatabaseUrl());
      url.pathname = `/${id}`;
      return url.toString();
    };
    const servers = await Promise.allSettled([
      startBrokerProcess().then((b) => (cleanup.push(() => b.stop()), b)),
      startOwnServers(Boolean(opts.ownPostgres)).then((o) => (cleanup.push(() => o.stop()), o)),
    ] as const);
    // Settled all, so that whatever did start is in `cleanup` before a failure stops it.
    for (const r of servers) if (r.status === 'rejected') throw r.reason;
    const [broker, own] = servers.map((r) => (r as PromiseFulfilledResult<unknown>).value) as [
      BrokerProcess,
      Awaited<ReturnType<typeof startOwnServers>>,
    ];
    const { mail, postgres } = own;
    const databaseUrl = postgres ? postgres.url : await privateDatabase();

    const env: Record<string, string> = {
      LOG_LEVEL: 'info',
      KAFKA_BROKERS: `127.0.0.1:${broker.port}`,
      DATABASE_URL: databaseUrl,
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: String(mail.smtpPort),
      DYNAMODB_TABLE_EVENTS: `${id}_events`,
      DYNAMODB_TABLE_SNAPSHOTS: `${id}_snapshots`,
      DYNAMODB_TABLE_IDEMPOTENCY: `${id}_idempotency`,
    };
    const events = await connectEventStore(loadConfig({ ...process.env, ...env }));
    cleanup.push(async () => events.close());
    const shop = await startShop({ projectors: opts.projectors ?? 2, env });
    cleanup.push(() => shop.stop());
    const live = new pg.Pool({ connectionString: databaseUrl, max: 6 });
    live.on('error', () => {});
    cleanup.push(() => live.end());
    const a = shopActors(shop.baseUrl);
    const admin = await a.admin();
    return {
      shop,
      a,
      admin,
      broker,
      ...(postgres ? { postgres } : {}),
      mail,
      store: events.store,
      target: { live, databaseUrl, store: events.store },
      live,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

// ─── what the processes say ─────────────────────────────────────────────────────────────────────────────────

/** The ops port of a background process, from its start-up log line. */
export function opsPortOf(shop: ShopProcesses, name: string): number | undefined {
  const line = shop
    .logs()
    .split('\n')
    .findLast((l) => l.startsWith(`[${name}] `) && /ops_port=\d+/.test(l));
  const port = line?.match(/ops_port=(\d+)/)?.[1];
  return port ? Number(port) : undefined;
}

export interface Timed<T> {
  ms: number;
  status: number;
  body: T;
}

/** GET with a deadline: how long the answer took (a frozen dependency must not show here). */
export async function timedGet<T = any>(url: string, headers: Record<string, string> = {}, timeoutMs = 10_000): Promise<Timed<T>> {
  const started = Date.now();
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { ms: Date.now() - started, status: res.status, body: body as T };
}

// ─── "nothing lost, nothing twice, nothing stuck" ────────────────────────────────────────────────────────────

export interface MailboxEntry {
  subject: string;
  messageId?: string;
  headers: Record<string, string>;
  to: Array<{ address: string }>;
  time: string;
}

const idOf = (m: MailboxEntry) => {
  const raw = m.headers['message-id'] ?? m.messageId ?? '';
  return raw.startsWith('<') ? raw : `<${raw}>`;
};

export interface Settled {
  /** From `since` to the moment everything below held. */
  ms: number;
  /** From `since` to the first moment each held (they may have held earlier than all together). */
  readModelMs: number;
  outboxMs: number;
  mailsMs: number;
  streams: number;
  events: number;
  mails: number;
}

/**
 * Waits until the shop has settled — every stream of its store is in the read model at the store's version,
 * the outbox is empty, every mail the order events call for is recorded — and the store has stopped moving (a
 * process manager may still append). Resolves with how long that took from `since`.
 */
export async function settled(f: FaultShop, since: number, timeoutMs: number): Promise<Settled> {
  let state = 'not checked';
  let previous = '';
  const first: { readModel?: number; outbox?: number; mails?: number } = {};
  const result = await eventually(
    async () => {
      const { versions, expected } = await scanStore(f);
      const lagging = await behind(f.live, versions);
      const outbox = await f.store.findUnpublished(new Date(Date.now() + 3_600_000).toISOString(), 100);
      const { rows } = await f.live.query<{ n: number }>('SELECT count(*)::int AS n FROM sent_emails');
      // A fulfilment timer due soon (a booking a killed worker left, a retry) will still append: the store has not
      // come to rest while one is pending, however long it stays still meanwhile. (Carrier answers are due in an
      // hour in these tests: those steps never come within a test.)
      const timers = await f.live.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM shipment_timers WHERE GREATEST(due_at, COALESCE(next_attempt_at, due_at)) < now() + interval '2 minutes'",
      );
      const now = Date.now();
      if (lagging.length === 0) first.readModel ??= now;
      if (outbox.length === 0) first.outbox ??= now;
      if (rows[0]!.n >= expected.size) first.mails ??= now;
      const waiting = [
        lagging.length > 0 && `read model behind on ${lagging.length} streams, e.g. ${lagging.slice(0, 5).join(', ')}`,
        outbox.length > 0 &&
          `${outbox.length}${outbox.length === 100 ? '+' : ''} events in the outbox, e.g. ${outbox
            .slice(0, 3)
            .map((e) => `${e.aggregate_id}@${e.version}`)
            .join(', ')}`,
        rows[0]!.n < expected.size && `${rows[0]!.n} of ${expected.size} mails recorded`,
        timers.rows[0]!.n > 0 && `${timers.rows[0]!.n} fulfilment timers due`,
      ].filter(Boolean);
      if (waiting.length > 0) return void (state = waiting.join('; '));
      const fingerprint = [...versions].sort().join(',');
      // Twice the same store: nothing appended in between (a saga step, an expiry), so this is the end state.
      if (fingerprint !== previous) {
        previous = fingerprint;
        return void (state = 'store still moving');
      }
      return {
        ms: now - since,
        readModelMs: first.readModel! - since,
        outboxMs: first.outbox! - since,
        mailsMs: first.mails! - since,
        streams: versions.size,
        events: [...versions.values()].reduce((n, v) => n + v, 0),
        mails: expected.size,
      };
    },
    { what: 'the shop to settle', timeoutMs, intervalMs: 300 },
  ).catch((err: Error) => {
    throw new Error(`${err.message}: ${state}`);
  });
  return result;
}

type ExpectedMails = Map<string, { order: string; kind: string; version: number; to: string }>;

/** One scan of the shop's store: every stream's version, and Message-ID → the mail each order event calls for. */
async function scanStore(f: FaultShop): Promise<{ versions: Map<string, number>; expected: ExpectedMails }> {
  const versions = new Map<string, number>();
  const mails: Array<{ id: string; order: string; kind: string; version: number }> = [];
  const recipients = new Map<string, string>();
  await f.store.scanAll(async (page) => {
    for (const e of page) {
      versions.set(e.aggregate_id, Math.max(versions.get(e.aggregate_id) ?? 0, e.version));
      if (e.event_type === 'OrderPlaced') recipients.set(e.aggregate_id, String(e.data.user_email));
      const kind = orderMailKind(e);
      if (kind) mails.push({ id: `<${e.event_id}.${kind}@ec-shop.local>`, order: e.aggregate_id, kind, version: e.version });
    }
  });
  const expected: ExpectedMails = new Map(
    mails.map((m) => [m.id, { order: m.order, kind: m.kind, version: m.version, to: recipients.get(m.order) ?? '?' }]),
  );
  return { versions, expected };
}

/**
 * Every mail the order events call for is recorded once in sent_emails and arrived once (no duplicate, nothing
 * extra), and each order's mails arrived in the order of its events.
 */
export async function assertMailsExactlyOnceInOrder(t: TestContext, f: FaultShop): Promise<void> {
  const { expected } = await scanStore(f);
  const { rows } = await f.live.query<{ message_id: string }>('SELECT message_id FROM sent_emails');
  assert.deepEqual(rows.map((r) => r.message_id).sort(), [...expected.keys()].sort(), 'one sent_emails row per mail the events call for');
  const inbox = await eventually(
    async () => {
      const res = await fetch(`${f.mail.webUrl}/email`);
      assert.equal(res.status, 200);
      const all = (await res.json()) as MailboxEntry[];
      return all.length >= expected.size ? all : undefined;
    },
    { what: `${expected.size} mails in the inbox`, timeoutMs: 20_000, intervalMs: 250 },
  );
  const copies = new Map<string, number>();
  for (const m of inbox) copies.set(idOf(m), (copies.get(idOf(m)) ?? 0) + 1);
  assert.deepEqual(
    [...copies.keys()].filter((id) => !expected.has(id)),
    [],
    'no mail the events do not call for',
  );
  assert.deepEqual(
    [...copies].filter(([, n]) => n > 1),
    [],
    'no mail twice',
  );
  assert.equal(copies.size, expected.size, 'every mail arrived');
  // MailDev lists mail in arrival order: per order, the versions of its mails must rise.
  const outOfOrder: string[] = [];
  const lastVersion = new Map<string, number>();
  for (const m of inbox) {
    const e = expected.get(idOf(m));
    if (!e) continue;
    if ((lastVersion.get(e.order) ?? 0) > e.version)
      outOfOrder.push(`${e.order}: ${e.kind} (v${e.version}) after v${lastVersion.get(e.order)}`);
    lastVersion.set(e.order, Math.max(lastVersion.get(e.order) ?? 0, e.version));
  }
  assert.deepEqual(outOfOrder, [], "each order's mails arrive in the order of its events");
  t.diagnostic(`${expected.size} mails to ${new Set([...expected.values()].map((e) => e.to)).size} customers, each once, in event order`);
}

/** The end state after a fault: settled within `boundMs`, nothing lost, nothing twice, equal to a rebuild. */
export async function assertRecovered(
  t: TestContext,
  f: FaultShop,
  opts: { since: number; boundMs: number; acks: Array<{ stream: string; version: number }> },
): Promise<Settled> {
  const done = await settled(f, opts.since, opts.boundMs);
  // Every acknowledged command is in the store and, the store being in the read model, visible there.
  const versions = await allStoreVersions(f.store);
  const missing = opts.acks.filter((x) => (versions.get(x.stream) ?? 0) < x.version);
  assert.deepEqual(missing, [], 'every 2xx command is in the event store and the read model');
  await assertMailsExactlyOnceInOrder(t, f);
  await assertEqualsRebuild(t, f.target, 'all');
  assert.deepEqual(await f.store.findUnpublished(new Date(Date.now() + 3_600_000).toISOString(), 10), [], 'outbox empty');
  return done;
}

/** Best effort: the processes' pids, for a line in a diagnostic. */
export const psLine = (pids: number[]): string => {
  try {
    return execFileSync('ps', ['-o', 'pid=,stat=,comm=', '-p', pids.join(',')])
      .toString()
      .trim()
      .split('\n')
      .join('; ');
  } catch {
    return pids.join(',');
  }
};

// ─── one fault under a steady workload ───────────────────────────────────────────────────────────────────────

/** The live processes of a kind, e.g. `projector` → projector-2, projector-3. */
export const alive = (f: FaultShop, kind: string): string[] =>
  f.shop.processes
    .filter((p) => p.name.startsWith(`${kind}-`) && p.child.exitCode === null && p.child.signalCode === null)
    .map((p) => p.name);

/** The ops server of the newest live process of a kind. */
export const opsUrl = (f: FaultShop, kind: string): string => {
  const name = alive(f, kind).at(-1);
  const port = name && opsPortOf(f.shop, name);
  assert.ok(port, `a ${kind} runs and logged its ops port`);
  return `http://127.0.0.1:${port}`;
};

export interface FaultRun {
  w: Workload;
  faultAt: number;
  healedAt: number;
  settled: Settled;
}

export interface FaultOptions {
  seed: number;
  /** How long the fault lasts. */
  faultMs: number;
  inject: () => Promise<void> | void;
  heal: () => Promise<void> | void;
  /** Checks while the fault lasts (health, lag); a failure fails the test once the fault is healed. */
  during?: (faultAt: number) => Promise<void>;
  /** From the end of the fault to "everything settled". */
  boundMs: number;
}

/**
 * Drives the workload over the shop's customers and products, injects the fault once commands flow, runs
 * `during` while it lasts, heals it after `faultMs`, lets the workload run on a little, then checks the
 * recovery (assertRecovered) and reports the api's error rate and the catch-up time.
 */
export async function underFault(t: TestContext, f: FaultShop, actors: ShopActorsOf, opts: FaultOptions): Promise<FaultRun> {
  const started = Date.now();
  const kit = workloads(f.a, f.admin);
  const w = await kit.newWorkload(actors.customers, actors.products);
  // Paced: a steady stream a loaded 2-core machine can carry while it also runs the other test files. It runs
  // on for a few seconds after the fault: those commands meet the clients' recovery (and overtake the outbox).
  const enough = new AbortController();
  const driving = kit.drive(w, {
    trips: 10_000,
    maxMs: 30_000 + opts.faultMs + 30_000,
    seed: opts.seed,
    tripPauseMs: 700,
    adminPauseMs: 1_000,
    commandTimeoutMs: 30_000,
    signal: enough.signal,
  });
  let faultAt = 0;
  let healedAt = 0;
  try {
    await until('commands flowing', () => w.acks.length >= 10 || w.finished, 20_000);
    assert.ok(!w.finished, 'the fault comes mid-stream');
    faultAt = Date.now();
    await opts.inject();
    // Held, not left to reject on its own: a failed check must not end the test while the fault still lasts
    // (the next test would start with the fault in place and this workload still running).
    const during = (opts.during?.(faultAt) ?? Promise.resolve()).then(
      () => undefined,
      (err: unknown) => ({ err }),
    );
    await new Promise((r) => setTimeout(r, Math.max(0, faultAt + opts.faultMs - Date.now())));
    healedAt = Date.now();
    await opts.heal();
    const failedCheck = await during;
    if (failedCheck) throw failedCheck.err;
    await new Promise((r) => setTimeout(r, Math.max(0, healedAt + 3_000 - Date.now())));
  } finally {
    if (faultAt && !healedAt) await opts.heal();
    enough.abort();
    await driving;
  }
  const endedAt = Date.now();
  t.diagnostic(`workload: ${summary(w)}; it ran on for ${endedAt - healedAt} ms after the fault ended`);
  assert.deepEqual(w.failures, [], 'no command failed (only 2xx and 409)');
  assert.deepEqual(w.lost, [], 'every command was answered');

  const done = await assertRecovered(t, f, { since: healedAt, boundMs: opts.boundMs, acks: w.acks });
  const fault = errorRate(w, faultAt, healedAt);
  const afterwards = errorRate(w, healedAt);
  const pct = (r: number) => `${(100 * r).toFixed(1)} %`;
  t.diagnostic(
    `api during the fault: ${fault.commands} commands, error rate ${pct(fault.rate)} (${fault.failed} failed, ${fault.lost} unanswered, ${fault.refused} refused 409), latency p50 ${fault.p50_ms} ms / p99 ${fault.p99_ms} ms / max ${fault.max_ms} ms`,
  );
  t.diagnostic(`api after the fault: ${afterwards.commands} commands, error rate ${pct(afterwards.rate)}, p99 ${afterwards.p99_ms} ms`);
  t.diagnostic(
    `catch-up after the fault ended: read model ${done.readModelMs} ms, outbox empty ${done.outboxMs} ms, mails ${done.mailsMs} ms, all settled ${done.ms} ms, ${healedAt + done.ms - endedAt} ms after the last command (${done.events} events in ${done.streams} streams, ${done.mails} mails); test took ${Date.now() - started} ms`,
  );
  return { w, faultAt, healedAt, settled: done };
}

/** After the fault: every process says ready again (the stuck sweeper once said ready while stuck) and lag is 0. */
export async function assertHealthBack(t: TestContext, f: FaultShop, healedAt: number): Promise<void> {
  const urls = [
    `${f.shop.baseUrl}/readyz`,
    ...['worker', 'projector', 'notifier'].flatMap((kind) =>
      alive(f, kind).map((name) => `http://127.0.0.1:${opsPortOf(f.shop, name)}/readyz`),
    ),
  ];
  for (const url of urls) {
    let last: unknown;
    await eventually(
      async () => {
        const r = await timedGet(url);
        last = r.body;
        return r.status === 200;
      },
      { what: `${url} ready again`, timeoutMs: 60_000, intervalMs: 250 },
    ).catch((err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify(last)}`);
    });
  }
  const lag = await timedGet(`${f.shop.baseUrl}/ops/lag`, { authorization: `Bearer ${f.admin}` });
  assert.equal(lag.status, 200);
  assert.equal(lag.body.stale, false, 'a fresh lag report');
  assert.equal(lag.body.total_lag, 0, 'no consumer group lags');
  t.diagnostic(`every process ready again, /ops/lag fresh with no lag, ${Date.now() - healedAt} ms after the fault ended`);
}

export interface ShopActorsOf {
  customers: Customer[];
  products: string[];
}

/**
 * before/after of a fault test file: a shop of its own (startFaultShop) with 5 customers and 4 products the
 * workloads share. The getter is valid inside the tests.
 */
export function useFaultShop(opts: Parameters<typeof startFaultShop>[0]): () => { f: FaultShop; actors: ShopActorsOf } {
  let state: { f: FaultShop; actors: ShopActorsOf } | undefined;
  before(async () => {
    const f = await startFaultShop(opts);
    try {
      const customers = await Promise.all(Array.from({ length: 5 }, (_, i) => f.a.customer(`障害 ${i}`)));
      const products = (
        await Promise.all(Array.from({ length: 4 }, (_, i) => f.a.product({ price: 1000 + 100 * i, stock: 1_000_000 })))
      ).map((p) => p.id as string);
      state = { f, actors: { customers, products } };
    } catch (err) {
      await f.stop();
      throw err;
    }
  });
  after(async () => {
    await state?.f.stop();
  });
  return () => {
    assert.ok(state, 'the fault shop started');
    return state;
  };
}
