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
  log?: Log;
}

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
  try {
    const { startBroker } = await import('./broker/index.ts');
    const [dynamo, pgServer, mail, broker] = await Promise.all([
      startDynamoDbLocal({ port: ports.dynamodb, ...(opts.ephemeral ? {} : { dataDir: dir('dynamodb') }), log }).then((s) => (stops.push(s.stop), s)),
      startPostgres({ port: ports.postgres, dataDir: dir('postgres'), log }).then((s) => (stops.push(s.stop), s)),
      startMailDev({ smtpPort: ports.smtp, webPort: ports.mailWeb, ...(opts.ephemeral ? {} : { dataDir: dir('mail') }), log }).then((s) => (stops.push(s.stop), s)),
      startBroker({
        port: ports.kafka,
        host: '127.0.0.1',
        ...(opts.ephemeral ? {} : { dataDir: dir('kafka') }),
        defaultPartitions: opts.partitions ?? 6,
        logger: (line: string) => log(`[kafka] ${line}`),
      }).then((s) => (stops.push(s.close), s)),
    ]);
    return {
      ports,
      env: {
        DYNAMODB_ENDPOINT: dynamo.endpoint,
        DATABASE_URL: pgServer.url,
        KAFKA_BROKERS: `127.0.0.1:${broker.port}`,
        SMTP_HOST: '127.0.0.1',
        SMTP_PORT: String(mail.smtpPort),
        MAILDEV_URL: mail.webUrl,
      },
      stop: stopAll,
    };
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
