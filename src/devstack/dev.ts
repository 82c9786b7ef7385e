import { parseArgs } from 'node:util';
import path from 'node:path';
import { spawnManaged, waitForPort, type ManagedProcess } from './process.ts';
import { startStack, type StackPorts } from './stack.ts';
import { prepareInfrastructure } from './prepare.ts';

const HELP = `usage: make dev [ARGS="…"]   (or: npx tsx cmd/dev.ts [options])
  --fresh            start from empty data (deletes .data/)
  --projectors N     projector processes (default 2)
  --data-dir DIR     where data lives (default .data)
ports (flags or env): --api-port (PORT, 8080) --dynamodb-port (DYNAMODB_PORT, 8000) --postgres-port (PG_PORT, 5432)
  --kafka-port (KAFKA_PORT, 9092) --smtp-port (SMTP_PORT, 1025) --mail-port (MAIL_WEB_PORT, 1080)`;

/**
 * `make dev`: the embedded stack plus every process of the shop as separate OS processes, exactly as in
 * production but without Docker. Ctrl-C (or SIGTERM) stops the processes first, then the stack.
 */
export async function runDev(argv: string[], root: string, opts: { stop?: AbortSignal } = {}): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      fresh: { type: 'boolean', default: false },
      projectors: { type: 'string', default: '2' },
      'data-dir': { type: 'string', default: path.join(root, '.data') },
      'api-port': { type: 'string' },
      'dynamodb-port': { type: 'string' },
      'postgres-port': { type: 'string' },
      'kafka-port': { type: 'string' },
      'smtp-port': { type: 'string' },
      'mail-port': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
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
  const ports: StackPorts = {
    dynamodb: port(values['dynamodb-port'], 'DYNAMODB_PORT', 8000),
    postgres: port(values['postgres-port'], 'PG_PORT', 5432),
    kafka: port(values['kafka-port'], 'KAFKA_PORT', 9092),
    smtp: port(values['smtp-port'], 'SMTP_PORT', 1025),
    mailWeb: port(values['mail-port'], 'MAIL_WEB_PORT', 1080),
  };
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const started = Date.now();
  log(`starting the embedded stack in ${values['data-dir']}${values.fresh ? ' (fresh)' : ''} …`);
  const stack = await startStack({ dataDir: values['data-dir'], fresh: values.fresh, ports, log });
  const children: ManagedProcess[] = [];
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    log('\nstopping processes …');
    await Promise.allSettled(children.map((c) => c.stop(8000)));
    log('stopping the embedded stack …');
    await stack.stop();
    log('stopped.');
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  opts.stop?.addEventListener('abort', () => void shutdown(0));
  try {
    await prepareInfrastructure(stack.env, log);
    const env = {
      ...process.env,
      ...stack.env,
      NODE_ENV: 'development',
      // These machines run Node 20; the SDK's notice about Node 22 would repeat once per process.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ?? 'true',
      PORT: String(apiPort),
      MAIL_UI_URL: stack.env.MAILDEV_URL ?? '',
    };
    const spawnProcess = (name: string, script: string, extra: Record<string, string> = {}) => {
      const child = spawnManaged(name, process.execPath, ['--import', 'tsx', path.join(root, 'cmd', script)], {
        cwd: root,
        env: { ...env, ...extra },
        log,
      });
      void child.exited.then((exitCode) => {
        if (!stopping) log(`[${name}] exited with code ${exitCode}; stop with Ctrl-C and check the log above`);
      });
      children.push(child);
    };
    spawnProcess('api', 'api.ts');
    for (let i = 1; i <= projectors; i++) spawnProcess(`projector-${i}`, 'projector.ts', { INSTANCE_ID: `projector-${i}` });
    spawnProcess('notifier', 'notifier.ts');
    spawnProcess('worker', 'worker.ts');
    await waitForPort(apiPort, '127.0.0.1', 60_000, children[0]?.exited);
    log(`
EC Shop is running (${((Date.now() - started) / 1000).toFixed(1)} s) — Ctrl-C stops everything
  shop + API      http://localhost:${apiPort}          (admin: admin@example.com / admin123)
  mail inbox      ${stack.env.MAILDEV_URL}          (MailDev: SMTP on ${ports.smtp})
  DynamoDB Local  ${stack.env.DYNAMODB_ENDPOINT}
  PostgreSQL      ${stack.env.DATABASE_URL}
  Kafka           ${stack.env.KAFKA_BROKERS}          (dev broker: kcat -b ${stack.env.KAFKA_BROKERS} -L)
  processes       api, projector ×${projectors}, notifier, worker
`);
  } catch (err) {
    log(`make dev failed: ${(err as Error).message}`);
    await shutdown(1);
  }
}
