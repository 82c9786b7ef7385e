/**
 * The event store contract against a real DynamoDB Local (started by scripts/with-stack.ts):
 *   STACK_SERVICES=dynamodb npx tsx scripts/with-stack.ts -- node --import tsx --test test/integration/eventstore.dynamodb.test.ts
 * Every test gets its own three tables, so the outbox and scan assertions can be exact.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  GetItemCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDynamoClient } from '../../src/platform/eventstore/client.ts';
import { eventStoreContract } from '../unit/eventstore/contract.ts';
import { createDynamoEventStore } from '../../src/platform/eventstore/dynamodb.ts';
import { eventItem } from '../../src/platform/eventstore/dynamodb-items.ts';
import { sessionStoreContract } from '../unit/eventstore/session-contract.ts';
import { createDynamoSessionStore } from '../../src/platform/eventstore/sessions.ts';
import { ensureTables } from '../../src/platform/eventstore/tables.ts';
import { uniq } from '../support/env.ts';

const endpoint = process.env.DYNAMODB_ENDPOINT;
if (!endpoint) throw new Error('DYNAMODB_ENDPOINT is not set: run this through scripts/with-stack.ts (see the header of this file)');

let client: DynamoDBClient;
before(() => {
  client = createDynamoClient({ endpoint, region: 'ap-northeast-1' });
});
after(() => client.destroy());

const freshTables = () => {
  const prefix = uniq('es');
  return { events: `${prefix}-events`, snapshots: `${prefix}-snapshots`, idempotency: `${prefix}-idempotency`, auth: `${prefix}-auth` };
};

/** Items exactly as a release before the credential item wrote them (already published: no outbox attributes). */
const putStored = async (table: string, events: Parameters<typeof eventItem>[0][]) => {
  for (const e of events) {
    const { outbox_shard: _s, outbox_at: _a, ...item } = eventItem(e, '0');
    await client.send(new PutItemCommand({ TableName: table, Item: item }));
  }
};

eventStoreContract(
  'DynamoDB Local',
  async () => {
    const tables = freshTables();
    await ensureTables(client, tables);
    // Small pages so every Query and Scan loop really pages; 3 shards so the outbox merge spans partitions.
    return createDynamoEventStore({ client, tables, pageSize: 25, outboxShards: 3 });
  },
  {
    makeStoreWith: async (stored) => {
      const tables = freshTables();
      await ensureTables(client, tables);
      await putStored(tables.events, stored);
      return createDynamoEventStore({ client, tables, pageSize: 25, outboxShards: 3 });
    },
  },
);

sessionStoreContract('DynamoDB Local', async () => {
  const tables = freshTables();
  await ensureTables(client, tables);
  return createDynamoSessionStore({ client, table: tables.auth });
});

describe('DynamoDB tables and transactions', () => {
  it('ensureTables is idempotent and safe when several processes start together', async () => {
    const tables = freshTables();
    await Promise.all([ensureTables(client, tables), ensureTables(client, tables), ensureTables(client, tables)]);
    await ensureTables(client, tables);
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tables.events }));
    assert.equal(Table?.TableStatus, 'ACTIVE');
    assert.equal(Table?.BillingModeSummary?.BillingMode, 'PAY_PER_REQUEST');
    assert.deepEqual(
      Table?.KeySchema?.map((k) => k.AttributeName),
      ['aggregate_id', 'version'],
    );
    const gsi = Table?.GlobalSecondaryIndexes?.[0];
    assert.equal(gsi?.IndexName, 'outbox');
    assert.deepEqual(
      gsi?.KeySchema?.map((k) => k.AttributeName),
      ['outbox_shard', 'outbox_at'],
    );
    const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tables.idempotency }));
    assert.equal(ttl.TimeToLiveDescription?.AttributeName, 'expires_at');
  });

  it("stores events in the documented layout, the transaction's outbox marker on its first event only until published", async () => {
    const tables = freshTables();
    await ensureTables(client, tables);
    const store = createDynamoEventStore({ client, tables });
    const [e] = await store.append(
      [
        {
          aggregate_id: 'order-1',
          aggregate_type: 'Order',
          expected_version: 0,
          events: [{ event_type: 'OrderPlaced', data: { total: 1200 } }],
        },
      ],
      { metadata: { user_id: 'u' }, now: '2030-01-01T00:00:00Z' },
    );
    const key = { aggregate_id: { S: 'order-1' }, version: { N: '1' } };
    const item = (await client.send(new GetItemCommand({ TableName: tables.events, Key: key }))).Item;
    assert.deepEqual(Object.keys(item ?? {}).sort(), [
      'aggregate_id',
      'aggregate_type',
      'created_at',
      'data',
      'event_id',
      'event_type',
      'metadata',
      'outbox_at',
      'outbox_events',
      'outbox_shard',
      'schema_version',
      'version',
    ]);
    assert.equal(item?.outbox_events?.S, '[]', 'the transaction has no other events');
    assert.equal(item?.data?.S, '{"total":1200}');
    assert.equal(item?.event_id?.S, e?.event_id);
    assert.equal(item?.outbox_at?.S, '2030-01-01T00:00:00.000Z');
    assert.match(item?.outbox_shard?.S ?? '', /^[0-7]$/);
    await store.markPublished([{ aggregate_id: 'order-1', version: 1 }]);
    const published = (await client.send(new GetItemCommand({ TableName: tables.events, Key: key }))).Item;
    assert.equal(published?.outbox_shard, undefined);
    assert.equal(published?.outbox_at, undefined);
    assert.equal(published?.outbox_events, undefined);
  });

  it('keeps the credential in the auth table and, after migrating a legacy account, no hash in the events table', async () => {
    const tables = freshTables();
    await ensureTables(client, tables);
    const store = createDynamoEventStore({ client, tables });
    await store.append(
      [
        {
          aggregate_id: 'u-new',
          aggregate_type: 'User',
          expected_version: 0,
          events: [{ event_type: 'UserRegistered', data: { user_id: 'u-new' } }],
        },
      ],
      { metadata: {}, now: '2030-01-01T00:00:00Z', credential: { user_id: 'u-new', password_hash: 'scrypt$n' } },
    );
    const credential = (await client.send(new GetItemCommand({ TableName: tables.auth, Key: { pk: { S: 'credential#u-new' } } }))).Item;
    assert.equal(credential?.password_hash?.S, 'scrypt$n');
    assert.equal(credential?.expires_at, undefined, 'credentials never expire by TTL');
    const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tables.auth }));
    assert.equal(ttl.TimeToLiveDescription?.AttributeName, 'expires_at');

    await putStored(tables.events, [
      {
        event_id: '00000000-0000-4000-8000-0000000000aa',
        aggregate_id: 'u-old',
        aggregate_type: 'User',
        event_type: 'UserRegistered',
        version: 1,
        data: { user_id: 'u-old', password_hash: 'scrypt$old' },
        metadata: {},
        created_at: '2020-01-01T00:00:00.000Z',
        schema_version: 1,
      },
    ]);
    assert.equal((await store.readCredential('u-old'))?.password_hash, 'scrypt$old');
    const rewritten = (
      await client.send(new GetItemCommand({ TableName: tables.events, Key: { aggregate_id: { S: 'u-old' }, version: { N: '1' } } }))
    ).Item;
    assert.equal(rewritten?.data?.S, '{"user_id":"u-old"}');
    assert.equal(rewritten?.event_id?.S, '00000000-0000-4000-8000-0000000000aa', 'the event keeps its identity');
  });

  it('DynamoDB itself refuses a 101-item transaction (the reason for the client-side limit)', async () => {
    const tables = freshTables();
    await ensureTables(client, tables);
    const items = Array.from({ length: 101 }, (_, i) => ({
      Put: { TableName: tables.events, Item: { aggregate_id: { S: 'x' }, version: { N: String(i + 1) } } },
    }));
    await assert.rejects(
      client.send(new TransactWriteItemsCommand({ TransactItems: items })),
      /100|ValidationException|Member must have length less than or equal/i,
    );
  });
});
