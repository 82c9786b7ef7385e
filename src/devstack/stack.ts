import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BROKER_BIN } from 'kafka-dev-broker';
import { dynamoDbDefinition } from './dynamodb.ts';
import { mailDevDefinition } from './maildev.ts';
import { preparePostgres } from './postgres.ts';
import { freePort, isPortFree, spawnManaged, waitForPort, type Log } from './process.ts';
import { generateSecrets, secretsEnv, type StackSecrets } from './secrets.ts';
import { supervise, type Backoff, type ServiceDefinition, type SupervisedService } from './supervisor.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface StackPorts {
  dynamodb: number;
  postgres: number;
  kafka: number;
  smtp: number;
  mailWeb: number;
}

export interface StackOptions {
  /** Root of all data; each service gets a sub-directory. */
  dataDir: string;
  /** Keep data in memory where a service allows it (tests): faster and nothing to clean. */
  ephemeral?: boolean;
  /** Wipe dataDir before starting (`make dev-fresh`). */
  fresh?: boolean;
  /** Fixed ports; 0 (or absent) picks a free one. */
  ports?: Partial<StackPorts>;
  partitions?: number;
  /** Start only these services (default: all). Their variables are absent from `env`. */
  services?: ReadonlyArray<ServiceName>;
  /** The shop's secrets and the PostgreSQL password (default: fresh random ones). */
  secrets?: StackSecrets;
  backoff?: Backoff;
  log?: Log;
}

export const SERVICES = { dynamodb: 'DynamoDB Local', postgres: 'PostgreSQL', mail: 'MailDev', kafka: 'Kafka broker' } as const;
export type ServiceName = keyof typeof SERVICES;

export interface Stack {
  ports: StackPorts;
  /**
   * The environment variables the processes read (the same code runs on this stack and on docker compose; only these say where things are): the only way they learn about the stack.
   * Includes the secrets (JWT_SECRET, ADMIN_EMAIL, ADMIN_PASSWORD).
   */
  env: Record<string, string>;
  secrets: StackSecrets;
  /** Each started service, kept running by its supervisor (a killed broker comes back on the same port). */
  services: Partial<Record<ServiceName, SupervisedService>>;
  /** Where PostgreSQL keeps its cluster (outside the checkout when running as root). */
  postgresLocation?: string;
  stop(): Promise<void>;
}

/**
 * The embedded infrastructure for `make dev` and the tests: DynamoDB Local, PostgreSQL, MailDev and the dev
 * Kafka broker, all real servers on loopback, each its own child process under a supervisor. Ports are
 * checked up front so a clash fails with a clear message, and stay fixed across restarts.
 */
export async function startStack(opts: StackOptions): Promise<Stack> {
  const log = opts.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  if (opts.fresh) rmSync(opts.dataDir, { recursive: true, force: true });
  mkdirSync(opts.dataDir, { recursive: true });
  const ports: StackPorts = {
    dynamodb: await pick(opts.ports?.dynamodb, 'DynamoDB Local'),
    postgres: await pick(opts.ports?.postgres, 'PostgreSQL'),
    kafka: await pick(opts.ports?.kafka, 'Kafka'),
    smtp: await pick(opts.ports?.smtp, 'SMTP'),
    mailWeb: await pick(opts.ports?.mailWeb, 'MailDev web'),
  };
  const secrets = opts.secrets ?? generateSecrets();
  const dir = (name: string) => path.join(opts.dataDir, name);
  const wanted = new Set<ServiceName>(opts.services ?? (Object.keys(SERVICES) as ServiceName[]));
  const env: Record<string, string> = { ...secretsEnv(secrets) };
  const services: Partial<Record<ServiceName, SupervisedService>> = {};
  const cleanups: Array<() => void> = [];
  let postgresLocation: string | undefined;

  const stop = async () => {
    await Promise.allSettled(Object.values(services).map((s) => s.stop()));
    for (const cleanup of cleanups) cleanup();
  };
  const start = async (
    name: ServiceName,
    define: () => Promise<{ definition: ServiceDefinition; vars: Record<string, string>; afterStart?: () => Promise<void> }>,
  ) => {
    if (!wanted.has(name)) return;
    const { definition, vars, afterStart } = await define();
    const service = supervise(definition, { log, ...(opts.backoff ? { backoff: opts.backoff } : {}) });
    services[name] = service;
    await service.start();
    await afterStart?.();
    Object.assign(env, vars);
  };
  try {
    const results = await Promise.allSettled([
      start('dynamodb', async () => ({
        definition: dynamoDbDefinition({ port: ports.dynamodb, ...(opts.ephemeral ? {} : { dataDir: dir('dynamodb') }), log }),
        vars: { DYNAMODB_ENDPOINT: `http://127.0.0.1:${ports.dynamodb}` },
      })),
      start('postgres', async () => {
        const plan = await preparePostgres({
          port: ports.postgres,
          dataDir: opts.dataDir,
          password: secrets.postgres_password,
          ephemeral: Boolean(opts.ephemeral),
          log,
        });
        cleanups.push(plan.cleanup);
        postgresLocation = plan.location;
        return { definition: plan.definition, vars: { DATABASE_URL: plan.url }, afterStart: plan.ensureDatabase };
      }),
      start('mail', async () => ({
        definition: mailDevDefinition({
          smtpPort: ports.smtp,
          webPort: ports.mailWeb,
          ...(opts.ephemeral ? {} : { dataDir: dir('mail') }),
          log,
        }),
        vars: { SMTP_HOST: '127.0.0.1', SMTP_PORT: String(ports.smtp), MAILDEV_URL: `http://127.0.0.1:${ports.mailWeb}` },
      })),
      // Always with a data dir (a temp one in tests): a broker restarted after a kill keeps its topics and
      // committed offsets, as a real one would.
      start('kafka', async () => ({
        definition: brokerDefinition({ port: ports.kafka, dataDir: dir('kafka'), partitions: opts.partitions ?? 6, log }),
        vars: { KAFKA_BROKERS: `127.0.0.1:${ports.kafka}` },
      })),
    ]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return { ports, env, secrets, services, ...(postgresLocation ? { postgresLocation } : {}), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The dev broker (packages/kafka-dev-broker) as its own process: killing it must not take its supervisor down. */
export function brokerDefinition(opts: { port: number; dataDir: string; partitions: number; log: Log }): ServiceDefinition {
  const args = [
    '--import',
    'tsx',
    BROKER_BIN,
    '--port',
    String(opts.port),
    '--host',
    '127.0.0.1',
    '--data-dir',
    opts.dataDir,
    '--partitions',
    String(opts.partitions),
  ];
  return {
    name: 'kafka',
    spawn: () => spawnManaged('kafka', process.execPath, args, { cwd: ROOT, log: opts.log, dieWithParent: true }),
    ready: async (proc) => {
      try {
        await waitForPort(opts.port, '127.0.0.1', 60_000, proc.exited);
      } catch (err) {
        throw new Error(`the dev Kafka broker did not start on port ${opts.port}: ${(err as Error).message}`);
      }
    },
  };
}

async function pick(port: number | undefined, what: string): Promise<number> {
  if (!port) return freePort();
  if (!(await isPortFree(port))) {
    throw new Error(
      `port ${port} for ${what} is already in use: stop whatever holds it (e.g. an earlier \`make dev\`) or choose another port`,
    );
  }
  return port;
}
