import { rmSync } from 'node:fs';
import path from 'node:path';
import { startDynamoDbLocal } from './dynamodb.ts';
import { startMailDev } from './maildev.ts';
import { startPostgres } from './postgres.ts';
import { freePort, isPortFree, type Log } from './process.ts';

export interface StackPorts {
  dynamodb: number;
  postgres: number;
  kafka: number;
  smtp: number;
  mailWeb: number;
}

export interface StackOptions {
  /** Root of all data; each service gets a sub-directory. Without it everything is in memory or a temp dir. */
  dataDir: string;
  /** Keep data in memory where a service allows it (tests): faster and nothing to clean. */
  ephemeral?: boolean;
  /** Wipe dataDir before starting (`make dev-fresh`). */
  fresh?: boolean;
  /** Fixed ports; 0 (or absent) picks a free one. */
  ports?: Partial<StackPorts>;
  partitions?: number;
  /** Start only these services (default: all). Their variables are absent from `env`. */
  services?: ReadonlyArray<keyof typeof SERVICES>;
  log?: Log;
}

export const SERVICES = { dynamodb: 'DynamoDB Local', postgres: 'PostgreSQL', mail: 'MailDev', kafka: 'Kafka broker' } as const;

export interface Stack {
  ports: StackPorts;
  /** The environment variables the processes read (DESIGN.md §2): the only way they learn about the stack. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * The embedded infrastructure for `make dev` and the tests: DynamoDB Local, PostgreSQL, MailDev and the dev
 * Kafka broker, all real servers on loopback. Ports are checked up front so a clash fails with a clear message.
 */
export async function startStack(opts: StackOptions): Promise<Stack> {
  const log = opts.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  if (opts.fresh) rmSync(opts.dataDir, { recursive: true, force: true });
  const ports: StackPorts = {
    dynamodb: await pick(opts.ports?.dynamodb, 'DynamoDB Local'),
    postgres: await pick(opts.ports?.postgres, 'PostgreSQL'),
    kafka: await pick(opts.ports?.kafka, 'Kafka'),
    smtp: await pick(opts.ports?.smtp, 'SMTP'),
    mailWeb: await pick(opts.ports?.mailWeb, 'MailDev web'),
  };
  const dir = (name: string) => path.join(opts.dataDir, name);
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    await Promise.allSettled(stops.reverse().map((stop) => stop()));
  };
  const wanted = new Set(opts.services ?? Object.keys(SERVICES));
  const env: Record<string, string> = {};
  const starts: Array<Promise<unknown>> = [];
  const start = async <S extends { stop?: () => Promise<void>; close?: () => Promise<void> }>(name: string, run: () => Promise<S>, vars: (s: S) => Record<string, string>) => {
    if (!wanted.has(name)) return;
    const service = await run();
    stops.push(() => (service.stop ?? service.close)!.call(service));
    Object.assign(env, vars(service));
  };
  try {
    starts.push(
      start('dynamodb', () => startDynamoDbLocal({ port: ports.dynamodb, ...(opts.ephemeral ? {} : { dataDir: dir('dynamodb') }), log }), (s) => ({
        DYNAMODB_ENDPOINT: s.endpoint,
      })),
      start('postgres', () => startPostgres({ port: ports.postgres, dataDir: dir('postgres'), log }), (s) => ({ DATABASE_URL: s.url })),
      start('mail', () => startMailDev({ smtpPort: ports.smtp, webPort: ports.mailWeb, ...(opts.ephemeral ? {} : { dataDir: dir('mail') }), log }), (s) => ({
        SMTP_HOST: '127.0.0.1',
        SMTP_PORT: String(s.smtpPort),
        MAILDEV_URL: s.webUrl,
      })),
      start(
        'kafka',
        async () => {
          const { startBroker } = await import('./broker/index.ts');
          return startBroker({
            port: ports.kafka,
            host: '127.0.0.1',
            ...(opts.ephemeral ? {} : { dataDir: dir('kafka') }),
            defaultPartitions: opts.partitions ?? 6,
            logger: (line: string) => log(`[kafka] ${line}`),
          });
        },
        (s) => ({ KAFKA_BROKERS: `127.0.0.1:${s.port}` }),
      ),
    );
    const results = await Promise.allSettled(starts);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return { ports, env, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

async function pick(port: number | undefined, what: string): Promise<number> {
  if (!port) return freePort();
  if (!(await isPortFree(port))) {
    throw new Error(`port ${port} for ${what} is already in use: stop whatever holds it (e.g. an earlier \`make dev\`) or choose another port`);
  }
  return port;
}
