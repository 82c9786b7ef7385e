/**
 * Creates the event store's tables if they are missing (startup of every process, tests; docker compose has no
 * separate init job, so this is the only definition of the layout). Several processes may run this at once:
 * whoever loses the CreateTable race gets ResourceInUseException and simply waits for the table like the winner.
 */
import type { CreateTableCommandInput, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import type { EventStoreTables } from './dynamodb-items.ts';
import { AUTH_KEY, EXPIRES_AT, OUTBOX_AT, OUTBOX_INDEX, OUTBOX_SHARD, authTableOf } from './dynamodb-items.ts';

export const eventsTable = (name: string): CreateTableCommandInput => ({
  TableName: name,
  BillingMode: 'PAY_PER_REQUEST',
  AttributeDefinitions: [
    { AttributeName: 'aggregate_id', AttributeType: 'S' },
    { AttributeName: 'version', AttributeType: 'N' },
    { AttributeName: OUTBOX_SHARD, AttributeType: 'S' },
    { AttributeName: OUTBOX_AT, AttributeType: 'S' },
  ],
  KeySchema: [
    { AttributeName: 'aggregate_id', KeyType: 'HASH' },
    { AttributeName: 'version', KeyType: 'RANGE' },
  ],
  GlobalSecondaryIndexes: [
    {
      IndexName: OUTBOX_INDEX,
      KeySchema: [
        { AttributeName: OUTBOX_SHARD, KeyType: 'HASH' },
        { AttributeName: OUTBOX_AT, KeyType: 'RANGE' },
      ],
      // ALL: the sweeper gets whole events from the index instead of a second read per event. The index is
      // sparse (only unpublished events are in it), so the copy is small and short-lived.
      Projection: { ProjectionType: 'ALL' },
    },
  ],
});

export const snapshotsTable = (name: string): CreateTableCommandInput => ({
  TableName: name,
  BillingMode: 'PAY_PER_REQUEST',
  AttributeDefinitions: [{ AttributeName: 'aggregate_id', AttributeType: 'S' }],
  KeySchema: [{ AttributeName: 'aggregate_id', KeyType: 'HASH' }],
});

export const idempotencyTable = (name: string): CreateTableCommandInput => ({
  TableName: name,
  BillingMode: 'PAY_PER_REQUEST',
  AttributeDefinitions: [{ AttributeName: 'key', AttributeType: 'S' }],
  KeySchema: [{ AttributeName: 'key', KeyType: 'HASH' }],
});

/** Credentials and refresh-token families (dynamodb-items.ts AUTH_KEY); TTL on EXPIRES_AT ends old sessions. */
export const authTable = (name: string): CreateTableCommandInput => ({
  TableName: name,
  BillingMode: 'PAY_PER_REQUEST',
  AttributeDefinitions: [{ AttributeName: AUTH_KEY, AttributeType: 'S' }],
  KeySchema: [{ AttributeName: AUTH_KEY, KeyType: 'HASH' }],
});

export async function ensureTables(
  client: DynamoDBClient,
  tables: EventStoreTables,
  opts: { maxWaitSeconds?: number } = {},
): Promise<void> {
  const maxWaitTime = opts.maxWaitSeconds ?? 120;
  await Promise.all(
    [
      eventsTable(tables.events),
      snapshotsTable(tables.snapshots),
      idempotencyTable(tables.idempotency),
      authTable(authTableOf(tables)),
    ].map(async (input) => {
      try {
        await client.send(new CreateTableCommand(input));
      } catch (err) {
        if (!(err instanceof ResourceInUseException)) throw err;
      }
      await waitUntilTableExists({ client, maxWaitTime, minDelay: 1, maxDelay: 5 }, { TableName: input.TableName });
    }),
  );
  await checkOutboxIndex(client, tables.events);
  await enableTtl(client, tables.idempotency);
  await enableTtl(client, authTableOf(tables));
}

/**
 * A table created by hand or by an older release may lack the outbox index. Without it the sweeper finds
 * nothing and a crash between append and publish silently loses the publication, so refuse to start.
 */
async function checkOutboxIndex(client: DynamoDBClient, table: string): Promise<void> {
  const { Table } = await client.send(new DescribeTableCommand({ TableName: table }));
  const index = Table?.GlobalSecondaryIndexes?.find((i) => i.IndexName === OUTBOX_INDEX);
  const keys = index?.KeySchema?.map((k) => `${k.AttributeName}:${k.KeyType}`).join(',');
  if (keys !== `${OUTBOX_SHARD}:HASH,${OUTBOX_AT}:RANGE`) {
    throw new Error(
      `table ${table} exists without the ${OUTBOX_INDEX} index (${OUTBOX_SHARD}, ${OUTBOX_AT}); add it (the layout is eventsTable() in src/platform/eventstore/tables.ts) before starting`,
    );
  }
}

async function enableTtl(client: DynamoDBClient, table: string): Promise<void> {
  const { TimeToLiveDescription: ttl } = await client.send(new DescribeTimeToLiveCommand({ TableName: table }));
  if (ttl?.TimeToLiveStatus === 'ENABLED' || ttl?.TimeToLiveStatus === 'ENABLING') {
    if (ttl.AttributeName !== EXPIRES_AT) throw new Error(`table ${table} has TTL on ${ttl.AttributeName}, expected ${EXPIRES_AT}`);
    return;
  }
  try {
    await client.send(
      new UpdateTimeToLiveCommand({ TableName: table, TimeToLiveSpecification: { AttributeName: EXPIRES_AT, Enabled: true } }),
    );
  } catch (err) {
    // Another process enabled it between our Describe and Update.
    if (!(err instanceof Error && /already enabled/i.test(err.message))) throw err;
  }
}
