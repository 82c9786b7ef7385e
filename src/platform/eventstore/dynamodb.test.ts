/**
 * The DynamoDB store's request shapes and error mapping, against a fake client. DynamoDB Local serialises
 * transactions, so it never answers TransactionConflict the way the real service does under contention: the
 * mapping of those cancellation reasons is checked here (the behaviour itself in the integration contract).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DynamoDBClient, TransactWriteItemsCommandInput } from '@aws-sdk/client-dynamodb';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { createDynamoEventStore } from './dynamodb.ts';
import type { StreamWrite } from './types.ts';
import { ConcurrencyError, IdempotencyKeyTaken, TransactionTooLarge } from './types.ts';

const tables = { events: 'ev', snapshots: 'sn', idempotency: 'id' };
const write = (id: string, n = 1): StreamWrite => ({
  aggregate_id: id,
  aggregate_type: 'Inventory',
  expected_version: 0,
  events: Array.from({ length: n }, () => ({ event_type: 'X', data: {} })),
});
const opts = { metadata: {}, now: '2030-01-01T00:00:00.000Z', idempotency: { key: 'k1', request_hash: 'h', status: 201, body: {} } };

/** A client whose every send is recorded and answered by `answer`. */
const fakeClient = (answer: (input: unknown) => unknown) => {
  const sent: unknown[] = [];
  const client = {
    send: async (command: { input: unknown }) => (sent.push(command.input), answer(command.input)),
  } as unknown as DynamoDBClient;
  return { client, sent };
};
const cancelled =
  (...codes: string[]) =>
  () => {
    throw new TransactionCanceledException({
      message: 'Transaction cancelled',
      $metadata: {},
      CancellationReasons: codes.map((Code) => ({ Code })),
    });
  };

describe('DynamoDB event store: requests and cancellation reasons', () => {
  it('sends one conditional transaction with an idempotency token, one outbox marker and the key last', async () => {
    const { client, sent } = fakeClient(() => ({}));
    await createDynamoEventStore({ client, tables, outboxShards: 8 }).append([write('a', 2), write('b')], opts);
    assert.equal(sent.length, 1);
    const input = sent[0] as TransactWriteItemsCommandInput;
    assert.match(input.ClientRequestToken ?? '', /^[0-9a-f-]{36}$/);
    const items = input.TransactItems ?? [];
    assert.equal(items.length, 4);
    for (const item of items.slice(0, 3)) assert.equal(item.Put?.ConditionExpression, 'attribute_not_exists(#v)');
    // The transaction's outbox marker is on its first event and carries the others; the rest carry none.
    const [first, ...rest] = items.slice(0, 3);
    assert.match(first?.Put?.Item?.outbox_shard?.S ?? '', /^[0-7]$/);
    assert.equal(first?.Put?.Item?.outbox_at?.S, opts.now);
    assert.deepEqual(
      (JSON.parse(first?.Put?.Item?.outbox_events?.S ?? '[]') as Array<{ aggregate_id: string; version: number }>).map(
        (e) => `${e.aggregate_id}@${e.version}`,
      ),
      ['a@2', 'b@1'],
    );
    for (const item of rest) assert.equal(item.Put?.Item?.outbox_shard, undefined);
    assert.equal(items[3]?.Put?.TableName, 'id');
    assert.equal(items[3]?.Put?.Item?.expires_at?.N, String(Date.parse(opts.now) / 1000 + 86_400));
  });

  it('never calls DynamoDB for more than 100 items', async () => {
    const { client, sent } = fakeClient(() => ({}));
    await assert.rejects(createDynamoEventStore({ client, tables }).append([write('a', 60), write('b', 40)], opts), TransactionTooLarge);
    assert.equal(sent.length, 0);
  });

  const cases: Array<[string, string[], (err: unknown) => boolean]> = [
    [
      'ConditionalCheckFailed on an event → ConcurrencyError of that stream',
      ['None', 'None', 'ConditionalCheckFailed', 'None'],
      (e) => e instanceof ConcurrencyError && e.aggregateIds.join() === 'b',
    ],
    [
      'TransactionConflict on events → ConcurrencyError of those streams',
      ['TransactionConflict', 'None', 'TransactionConflict', 'None'],
      (e) => e instanceof ConcurrencyError && e.aggregateIds.join() === 'a,b',
    ],
    [
      'ConditionalCheckFailed on the key → IdempotencyKeyTaken, even with conflicts',
      ['ConditionalCheckFailed', 'None', 'None', 'ConditionalCheckFailed'],
      (e) => e instanceof IdempotencyKeyTaken && e.key === 'k1',
    ],
    [
      'TransactionConflict on the key → ConcurrencyError (retry, then find the key taken)',
      ['None', 'None', 'None', 'TransactionConflict'],
      (e) => e instanceof ConcurrencyError,
    ],
    [
      'throttling is not a conflict: the SDK error is rethrown',
      ['ThrottlingError', 'None', 'None', 'None'],
      (e) => e instanceof TransactionCanceledException,
    ],
  ];
  for (const [name, codes, check] of cases) {
    it(name, async () => {
      const { client } = fakeClient(cancelled(...codes));
      await assert.rejects(createDynamoEventStore({ client, tables }).append([write('a', 2), write('b')], opts), check);
    });
  }

  it('does not query DynamoDB for an empty version range (it would reject BETWEEN 4 AND 3)', async () => {
    const { client, sent } = fakeClient(() => ({ Items: [] }));
    assert.deepEqual(await createDynamoEventStore({ client, tables }).readStream('a', { afterVersion: 3, toVersion: 3 }), []);
    assert.equal(sent.length, 0);
  });
});
