/**
 * The event store on DynamoDB (docs/event-store.md; castore's layout): one item per event keyed by
 * (aggregate_id, version); an append is one TransactWriteItems whose every event item is conditional on
 * attribute_not_exists(version), so optimistic concurrency, multi-stream atomicity and the idempotency key all
 * come from one all-or-nothing request. The item layout lives in dynamodb-items.ts, table creation in tables.ts.
 */
import { randomUUID } from 'node:crypto';
import type { DynamoDBClient, QueryCommandInput, ScanCommandOutput, TransactWriteItem } from '@aws-sdk/client-dynamodb';
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { EventEnvelope } from '../shared/envelope.ts';
import type { EventStoreTables, Item } from './dynamodb-items.ts';
import {
  AUTH_KEY,
  DEFAULT_OUTBOX_SHARDS,
  EXPIRES_AT,
  authTableOf,
  credentialFromItem,
  credentialItem,
  credentialKey,
  storedEnvelopeFromItem,
  OUTBOX_AT,
  OUTBOX_EVENTS,
  OUTBOX_INDEX,
  OUTBOX_SHARD,
  envelopeFromItem,
  outboxEventsFromItem,
  eventItem,
  idempotencyFromItem,
  idempotencyItem,
  outboxShard,
  snapshotFromItem,
  snapshotItem,
} from './dynamodb-items.ts';
import { canonicalIso, planAppend } from './plan.ts';
import { legacyCredentialOf, LEGACY_CREDENTIAL_FIELD } from './legacy.ts';
import type { AppendOptions, Credential, EventStore, IdempotencyRecord, Snapshot, StreamWrite } from './types.ts';
import { ConcurrencyError, IdempotencyKeyTaken } from './types.ts';
import { byOutboxOrder, mapLimit, positiveInt, runAll } from './util.ts';
import { exponentialDelay } from '../shared/retry.ts';
import { setTimeout as sleep } from 'node:timers/promises';

export interface DynamoEventStoreConfig {
  /** A plain DynamoDBClient: items are marshalled here, so no DocumentClient (and its translateConfig) is involved. */
  client: DynamoDBClient;
  tables: EventStoreTables;
  /** Partitions of the outbox index (default 8); only ever raise it (see outboxShard). */
  outboxShards?: number;
  newId?: () => string;
  /** Epoch ms; read to tell whether an idempotency record has expired and to date a migrated credential. */
  clock?: () => number;
  /** Items per Query/Scan request. DynamoDB pages at 1 MB anyway; tests set it low to exercise paging. */
  pageSize?: number;
  /** UpdateItems in flight in markPublished: enough to hide latency, few enough not to trip throttling. */
  markConcurrency?: number;
}

// Expression attribute names everywhere: `data`, `key`, `status`, `state` and friends are reserved words.
const NAMES = { '#id': 'aggregate_id', '#v': 'version' };

export function createDynamoEventStore(config: DynamoEventStoreConfig): EventStore {
  const { client, tables } = config;
  const shards = positiveInt(config.outboxShards ?? DEFAULT_OUTBOX_SHARDS, 'outboxShards');
  const newId = config.newId ?? randomUUID;
  const clock = config.clock ?? Date.now;
  const pageSize = config.pageSize;
  const markConcurrency = config.markConcurrency ?? 16;
  const authTable = authTableOf(tables);

  async function* query(input: QueryCommandInput): AsyncGenerator<Item[]> {
    let start: Item | undefined;
    do {
      const page = await client.send(new QueryCommand({ ...input, ...(start ? { ExclusiveStartKey: start } : {}) }));
      yield page.Items ?? [];
      start = page.LastEvaluatedKey;
    } while (start);
  }

  async function append(writes: StreamWrite[], opts: AppendOptions): Promise<EventEnvelope[]> {
    const plan = planAppend(writes, opts, newId);
    // Which stream (or the idempotency record) each transaction item belongs to, to read CancellationReasons.
    const owners: Array<string | null> = [];
    const items: TransactWriteItem[] = [];
    const [carrier] = plan.envelopes;
    for (const e of plan.envelopes) {
      owners.push(e.aggregate_id);
      items.push({
        Put: {
          TableName: tables.events,
          Item: e === carrier ? eventItem(e, outboxShard(e.aggregate_id, shards), plan.envelopes.slice(1)) : eventItem(e),
          ConditionExpression: 'attribute_not_exists(#v)',
          ExpressionAttributeNames: { '#v': 'version' },
        },
      });
    }
    for (const g of plan.guards) {
      owners.push(g.aggregate_id);
      items.push({
        ConditionCheck: {
          TableName: tables.events,
          Key: { aggregate_id: { S: g.aggregate_id }, version: { N: String(g.expected_version + 1) } },
          ConditionExpression: 'attribute_not_exists(#v)',
          ExpressionAttributeNames: { '#v': 'version' },
        },
      });
    }
    if (plan.idempotency) {
      owners.push(null);
      items.push({
        Put: {
          TableName: tables.idempotency,
          Item: idempotencyItem(plan.idempotency),
          // An expired record may still be there (TTL deletes lazily, up to days later): it no longer counts.
          ConditionExpression: 'attribute_not_exists(#k) OR #e <= :now',
          ExpressionAttributeNames: { '#k': 'key', '#e': EXPIRES_AT },
          ExpressionAttributeValues: { ':now': { N: String(plan.nowSeconds) } },
        },
      });
    }
    if (plan.credential) {
      // Owned by the user's stream: a taken credential means that account exists already, a conflict like any other.
      owners.push(plan.credential.user_id);
      items.push({
        Put: {
          TableName: authTable,
          Item: credentialItem(plan.credential, plan.createdAt),
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': AUTH_KEY },
        },
      });
    }
    for (const tip of plan.tips) {
      // Unconditional: the events' conditions already make this transaction the only one that moves the stream.
      owners.push(tip.aggregate_id);
      items.push({ Put: { TableName: tables.snapshots, Item: snapshotItem(tip) } });
    }
    if (items.length === 0) return [];
    try {
      // The token makes the SDK's own retries (timeouts, 5xx) idempotent for 10 minutes: without it, a retry of
      // a transaction that did commit would fail its conditions and report our own write as a conflict.
      await client.send(new TransactWriteItemsCommand({ TransactItems: items, ClientRequestToken: randomUUID() }));
    } catch (err) {
      throw err instanceof TransactionCanceledException ? cancellationError(err, owners, plan.idempotency?.key) : err;
    }
    remember(plan.envelopes, carrier ? eventItem(carrier) : undefined);
    return plan.envelopes;
  }

  async function readStream(aggregateId: string, opts: { afterVersion?: number; toVersion?: number } = {}): Promise<EventEnvelope[]> {
    const from = (opts.afterVersion ?? 0) + 1;
    const to = opts.toVersion ?? Number.MAX_SAFE_INTEGER;
    // DynamoDB rejects a BETWEEN whose bounds are reversed instead of returning nothing.
    if (to < from) return [];
    const events: EventEnvelope[] = [];
    const pages = query({
      TableName: tables.events,
      KeyConditionExpression: '#id = :id AND #v BETWEEN :from AND :to',
      ExpressionAttributeNames: NAMES,
      ExpressionAttributeValues: { ':id': { S: aggregateId }, ':from': { N: String(from) }, ':to': { N: String(to) } },
      // Decisions are made on what this returns: a stale read would only turn into a conflict later, but the
      // read-your-writes path (projector gap repair) needs every committed event.
      ConsistentRead: true,
      ...(pageSize ? { Limit: pageSize } : {}),
    });
    for await (const page of pages) events.push(...page.map(envelopeFromItem));
    return events;
  }

  async function findIdempotency(key: string): Promise<IdempotencyRecord | undefined> {
    const out = await client.send(new GetItemCommand({ TableName: tables.idempotency, Key: { key: { S: key } }, ConsistentRead: true }));
    if (!out.Item) return undefined;
    const { expires_at, ...record } = idempotencyFromItem(out.Item);
    return expires_at <= Math.floor(clock() / 1000) ? undefined : record;
  }

  async function eventsExist(keys: ReadonlyArray<{ aggregate_id: string; version: number }>): Promise<boolean[]> {
    const found = new Set<string>();
    const unique = [...new Map(keys.map((k) => [`${k.version}:${k.aggregate_id}`, k])).values()];
    for (let i = 0; i < unique.length; i += 100) {
      let batch: Item[] | undefined = unique
        .slice(i, i + 100)
        .map((k) => ({ aggregate_id: { S: k.aggregate_id }, version: { N: String(k.version) } }));
      for (let round = 0; batch && batch.length > 0; round++) {
        if (round > 0) await sleep(exponentialDelay(round, { initialMs: 20, maxMs: 200 }));
        const out = await client.send(
          new BatchGetItemCommand({
            RequestItems: {
              [tables.events]: { Keys: batch, ConsistentRead: true, ProjectionExpression: '#id, #v', ExpressionAttributeNames: NAMES },
            },
          }),
        );
        for (const item of out.Responses?.[tables.events] ?? []) found.add(`${item.version?.N}:${item.aggregate_id?.S}`);
        batch = out.UnprocessedKeys?.[tables.events]?.Keys as Item[] | undefined;
      }
    }
    return keys.map((k) => found.has(`${k.version}:${k.aggregate_id}`));
  }

  async function loadSnapshots(aggregateIds: readonly string[]): Promise<Map<string, Snapshot>> {
    const found = new Map<string, Snapshot>();
    const ids = [...new Set(aggregateIds)];
    // BatchGetItem takes 100 keys; what it could not read now comes back as UnprocessedKeys, asked again.
    for (let i = 0; i < ids.length; i += 100) {
      let keys: Item[] | undefined = ids.slice(i, i + 100).map((id) => ({ aggregate_id: { S: id } }));
      for (let round = 0; keys && keys.length > 0; round++) {
        if (round > 0) await sleep(exponentialDelay(round, { initialMs: 20, maxMs: 200 }));
        const out = await client.send(
          new BatchGetItemCommand({ RequestItems: { [tables.snapshots]: { Keys: keys, ConsistentRead: true } } }),
        );
        for (const item of out.Responses?.[tables.snapshots] ?? []) {
          const snapshot = snapshotFromItem(item);
          found.set(snapshot.aggregate_id, snapshot);
        }
        keys = out.UnprocessedKeys?.[tables.snapshots]?.Keys as Item[] | undefined;
      }
    }
    return found;
  }

  async function loadSnapshot(aggregateId: string): Promise<Snapshot | undefined> {
    const out = await client.send(
      new GetItemCommand({ TableName: tables.snapshots, Key: { aggregate_id: { S: aggregateId } }, ConsistentRead: true }),
    );
    return out.Item ? snapshotFromItem(out.Item) : undefined;
  }

  async function saveSnapshot(snapshot: Snapshot): Promise<void> {
    try {
      await client.send(
        new PutItemCommand({
          TableName: tables.snapshots,
          Item: snapshotItem(snapshot),
          ConditionExpression: 'attribute_not_exists(#id) OR #sv < :sv OR (#sv = :sv AND #v < :v)',
          ExpressionAttributeNames: { ...NAMES, '#sv': 'schema_version' },
          ExpressionAttributeValues: { ':v': { N: String(snapshot.version) }, ':sv': { N: String(snapshot.schema_version) } },
        }),
      );
    } catch (err) {
      // A newer snapshot is already there (another process got further): nothing to do.
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  }

  /**
   * Which transaction each recently appended or swept event belongs to (key → its marker's key and the
   * transaction's keys), bounded: an event it no longer knows is cleared as an older release marked it, one
   * UpdateItem of its own (harmless for an event that carries no marker).
   */
  const transactions = new Map<string, { carrier: string; keys: string[] }>();
  const MEMBERSHIP_LIMIT = 50_000;
  /**
   * The marker items of transactions this process appended, as they read once published: the event without
   * the outbox attributes. Clearing such a marker rewrites the item with it, which BatchWriteItem does for 25
   * transactions in one request (it cannot UpdateItem). Event items are immutable once written (the only other
   * writer is the legacy credential migration, of items written before credentials left the events, never of
   * one appended here), so the rewrite changes nothing but the marker. Swept markers are cleared by UpdateItem:
   * their item as read may be upcast or stripped, and must never be written back.
   */
  const published = new Map<string, Item>();
  const PUBLISHED_LIMIT = 10_000;
  const keyOf = (e: Pick<EventEnvelope, 'aggregate_id' | 'version'>) => `${e.version}:${e.aggregate_id}`;
  function remember(envelopes: readonly EventEnvelope[], publishedItem?: Item): void {
    const [carrier] = envelopes;
    if (!carrier) return;
    const tx = { carrier: keyOf(carrier), keys: envelopes.map(keyOf) };
    for (const k of tx.keys) transactions.set(k, tx);
    // Maps iterate in insertion order: drop the oldest.
    for (const k of transactions.keys()) {
      if (transactions.size <= MEMBERSHIP_LIMIT) break;
      transactions.delete(k);
    }
    if (publishedItem) {
      published.set(tx.carrier, publishedItem);
      for (const k of published.keys()) {
        if (published.size <= PUBLISHED_LIMIT) break;
        published.delete(k);
      }
    }
  }

  async function clearMarker(key: string): Promise<void> {
    const at = key.indexOf(':');
    try {
      await client.send(
        new UpdateItemCommand({
          TableName: tables.events,
          Key: { aggregate_id: { S: key.slice(at + 1) }, version: { N: key.slice(0, at) } },
          UpdateExpression: 'REMOVE #s, #at, #oe',
          // Without the condition an UpdateItem on a missing key would create a bare item: a phantom event
          // that blocks the real append at that version and breaks every reader of the stream.
          ConditionExpression: 'attribute_exists(#s)',
          ExpressionAttributeNames: { '#s': OUTBOX_SHARD, '#at': OUTBOX_AT, '#oe': OUTBOX_EVENTS },
        }),
      );
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  }

  /** Rewrites published marker items, 25 per BatchWriteItem, asking again for what DynamoDB left unprocessed. */
  async function rewriteUnmarked(items: Item[]): Promise<void> {
    const chunks = Array.from({ length: Math.ceil(items.length / 25) }, (_, i) => items.slice(i * 25, i * 25 + 25));
    await Promise.all(
      chunks.map(async (chunk) => {
        let requests = chunk.map((Item) => ({ PutRequest: { Item } }));
        for (let round = 0; requests.length > 0; round++) {
          if (round > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(200, 10 * 2 ** round)));
          const out = await client.send(new BatchWriteItemCommand({ RequestItems: { [tables.events]: requests } }));
          requests = (out.UnprocessedItems?.[tables.events] ?? []).flatMap((r) =>
            r.PutRequest?.Item ? [{ PutRequest: { Item: r.PutRequest.Item } }] : [],
          );
        }
      }),
    );
  }

  /**
   * Group commit of marker rewrites: while REWRITES_IN_FLIGHT batches are out, the markers of every command
   * that finishes publishing meanwhile gather into the next one, so under load a marker costs a fraction of a
   * request and DynamoDB's time goes to the transactions; idle, a marker goes out at once (after the tick).
   */
  const REWRITES_IN_FLIGHT = 2;
  let gathering: { items: Item[]; ready: boolean; done: Promise<void>; settle: (err?: unknown) => void } | undefined;
  let rewriting = 0;
  function flushRewrites(): void {
    const batch = gathering;
    if (!batch?.ready || rewriting >= REWRITES_IN_FLIGHT) return;
    gathering = undefined;
    rewriting++;
    rewriteUnmarked(batch.items)
      .then(
        () => batch.settle(),
        (err: unknown) => batch.settle(err ?? new Error('outbox marker rewrite failed')),
      )
      .finally(() => {
        rewriting--;
        flushRewrites();
      });
  }
  function clearPublished(items: Item[]): Promise<void> {
    if (!gathering) {
      let settle!: (err?: unknown) => void;
      const done = new Promise<void>((resolve, reject) => {
        settle = (err) => (err === undefined ? resolve() : reject(err as Error));
      });
      const batch = { items: [] as Item[], ready: false, done, settle };
      gathering = batch;
      setImmediate(() => {
        batch.ready = true;
        flushRewrites();
      });
    }
    gathering.items.push(...items);
    return gathering.done;
  }

  async function markPublished(events: ReadonlyArray<Pick<EventEnvelope, 'aggregate_id' | 'version'>>): Promise<void> {
    const given = new Set(events.map(keyOf));
    const markers = new Set<string>();
    for (const key of given) {
      const tx = transactions.get(key);
      if (!tx) markers.add(key);
      // A transaction is published once all its events are (the sweeper may hold one back, parked).
      else if (tx.keys.every((k) => given.has(k))) markers.add(tx.carrier);
    }
    // One marker per transaction; the ones this process appended are rewritten together, in batches.
    const rewrites = [...markers].flatMap((k) => (published.has(k) ? [published.get(k)!] : []));
    await Promise.all([
      rewrites.length ? clearPublished(rewrites) : undefined,
      mapLimit(
        [...markers].filter((k) => !published.has(k)),
        markConcurrency,
        clearMarker,
      ),
    ]);
    for (const key of markers) published.delete(key);
    for (const key of given) if (transactions.get(key) && markers.has(transactions.get(key)!.carrier)) transactions.delete(key);
  }

  async function findUnpublished(createdBefore: string, limit: number): Promise<EventEnvelope[]> {
    const before = canonicalIso(createdBefore, 'createdBefore');
    if (limit <= 0) return [];
    // The oldest transactions overall are among the oldest of each shard. The index is eventually consistent:
    // a just-published transaction may still show up, which costs a duplicate the consumers absorb.
    const perShard = await Promise.all(
      Array.from({ length: shards }, async (_, shard) => {
        const found: EventEnvelope[][] = [];
        let count = 0;
        const pages = query({
          TableName: tables.events,
          IndexName: OUTBOX_INDEX,
          KeyConditionExpression: '#s = :s AND #at < :before',
          ExpressionAttributeNames: { '#s': OUTBOX_SHARD, '#at': OUTBOX_AT },
          ExpressionAttributeValues: { ':s': { S: String(shard) }, ':before': { S: before } },
          ScanIndexForward: true,
          Limit: Math.min(limit, pageSize ?? limit),
        });
        for await (const page of pages) {
          for (const item of page) {
            const tx = outboxEventsFromItem(item);
            found.push(tx);
            count += tx.length;
          }
          if (count >= limit) break;
        }
        return found;
      }),
    );
    // Whole transactions, oldest first, up to the limit (at least one): the marker stands for all its events.
    const txs = perShard.flat().sort((a, b) => byOutboxOrder(a[0]!, b[0]!));
    const out: EventEnvelope[] = [];
    for (const tx of txs) {
      if (out.length > 0 && out.length + tx.length > limit) break;
      remember(tx);
      out.push(...tx);
    }
    return out;
  }

  async function scanAll(
    onPage: (events: EventEnvelope[]) => Promise<void>,
    opts: { segments?: number; pagesInMemory?: number } = {},
  ): Promise<void> {
    const segments = positiveInt(opts.segments ?? 4, 'segments');
    const budget = createBudget(positiveInt(opts.pagesInMemory ?? 2 * segments, 'pagesInMemory'));
    const fetchPage = async (segment: number, start: Item | undefined): Promise<ScanCommandOutput> => {
      await budget.take();
      try {
        return await client.send(
          new ScanCommand({
            TableName: tables.events,
            Segment: segment,
            TotalSegments: segments,
            // A rebuild must not miss an event committed just before it started.
            ConsistentRead: true,
            ...(pageSize ? { Limit: pageSize } : {}),
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
      } catch (err) {
        budget.give();
        throw err;
      }
    };
    // Segments split the table by partition key, so one stream's events stay in one segment, in version order.
    // Each segment asks for its next page while onPage works on the current one (DynamoDB and the consumer
    // overlap). A page counts against the budget from its request until its onPage has finished, so memory holds
    // at most `pagesInMemory` pages, whatever the number of segments or the table's size.
    await runAll(segments, async (segment, stopped) => {
      // Decoded right away so that the SDK's item objects are garbage before onPage runs.
      const decoded = (page: ScanCommandOutput) => ({ events: (page.Items ?? []).map(envelopeFromItem), start: page.LastEvaluatedKey });
      let next: Promise<ScanCommandOutput> | undefined = fetchPage(segment, undefined);
      while (next) {
        const { events, start } = decoded(await next);
        try {
          if (stopped()) return;
          next = start ? fetchPage(segment, start) : undefined;
          // A failing onPage must not leave the prefetch's rejection unhandled.
          next?.catch(() => {});
          if (events.length > 0) await onPage(events);
          if (stopped()) return;
        } finally {
          budget.give();
        }
      }
    });
  }

  async function getCredential(userId: string): Promise<Credential | undefined> {
    const out = await client.send(new GetItemCommand({ TableName: authTable, Key: credentialKey(userId), ConsistentRead: true }));
    return out.Item ? credentialFromItem(out.Item) : undefined;
  }

  async function readCredential(userId: string): Promise<Credential | undefined> {
    // A migration racing ours may still be in flight when ours is cancelled (TransactionConflict): read again.
    for (let attempt = 1; ; attempt++) {
      const result = await readOrMigrateCredential(userId);
      if (result !== 'raced') return result;
      if (attempt >= 5) throw new Error(`credential of ${userId}: the legacy migration kept conflicting`);
      await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
    }
  }

  async function readOrMigrateCredential(userId: string): Promise<Credential | undefined | 'raced'> {
    const found = await getCredential(userId);
    if (found) return found;
    // Legacy (legacy.ts): the hash is still inside the account's first event. Move it, atomically.
    const first = await client.send(
      new GetItemCommand({ TableName: tables.events, Key: { aggregate_id: { S: userId }, version: { N: '1' } }, ConsistentRead: true }),
    );
    if (!first.Item) return undefined;
    const stored = storedEnvelopeFromItem(first.Item);
    const hash = legacyCredentialOf(stored);
    if (!hash) return undefined;
    const { [LEGACY_CREDENTIAL_FIELD]: _hash, ...rest } = stored.data;
    try {
      await client.send(
        new TransactWriteItemsCommand({
          ClientRequestToken: randomUUID(),
          TransactItems: [
            {
              Put: {
                TableName: authTable,
                Item: credentialItem({ user_id: userId, password_hash: hash }, new Date(clock()).toISOString()),
                ConditionExpression: 'attribute_not_exists(#pk)',
                ExpressionAttributeNames: { '#pk': AUTH_KEY },
              },
            },
            {
              Update: {
                TableName: tables.events,
                Key: { aggregate_id: { S: userId }, version: { N: '1' } },
                UpdateExpression: 'SET #d = :stripped',
                ConditionExpression: '#d = :stored',
                ExpressionAttributeNames: { '#d': 'data' },
                ExpressionAttributeValues: { ':stripped': { S: JSON.stringify(rest) }, ':stored': first.Item.data ?? { S: '' } },
              },
            },
          ],
        }),
      );
    } catch (err) {
      // Another reader migrated it first (or is doing so): its item is the answer.
      if (!(err instanceof TransactionCanceledException)) throw err;
      return (await getCredential(userId)) ?? 'raced';
    }
    return { user_id: userId, password_hash: hash };
  }

  async function replaceCredential(userId: string, previousHash: string, passwordHash: string): Promise<boolean> {
    try {
      await client.send(
        new UpdateItemCommand({
          TableName: authTable,
          Key: credentialKey(userId),
          UpdateExpression: 'SET #h = :new, #u = :now',
          ConditionExpression: '#h = :old',
          ExpressionAttributeNames: { '#h': 'password_hash', '#u': 'updated_at' },
          ExpressionAttributeValues: {
            ':new': { S: passwordHash },
            ':old': { S: previousHash },
            ':now': { S: new Date(clock()).toISOString() },
          },
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }

  return {
    append,
    readStream,
    findIdempotency,
    eventsExist,
    loadSnapshot,
    loadSnapshots,
    saveSnapshot,
    markPublished,
    findUnpublished,
    scanAll,
    readCredential,
    replaceCredential,
  };
}

/**
 * CancellationReasons come in the order of the transaction's items. ConditionalCheckFailed on an event (or a
 * guard) means its stream moved; TransactionConflict means another transaction was writing the same item at
 * that moment, which for the caller is the same thing: reload and decide again. A taken idempotency key wins
 * over conflicts, because then the command already happened and its first answer is the one to return.
 */
function cancellationError(err: TransactionCanceledException, owners: Array<string | null>, idempotencyKey: string | undefined): Error {
  const conflicted = new Set<string>();
  let keyTaken = false;
  let keyBusy = false;
  (err.CancellationReasons ?? []).forEach((reason, i) => {
    const owner = owners[i];
    if (reason.Code === 'ConditionalCheckFailed') {
      if (owner === null) keyTaken = true;
      else if (owner !== undefined) conflicted.add(owner);
    } else if (reason.Code === 'TransactionConflict') {
      if (owner === null) keyBusy = true;
      else if (owner !== undefined) conflicted.add(owner);
    }
  });
  if (keyTaken && idempotencyKey !== undefined) return new IdempotencyKeyTaken(idempotencyKey);
  if (conflicted.size > 0 || keyBusy) return new ConcurrencyError([...conflicted]);
  // Throttling, validation, size limits…: not a conflict, and retrying the decision would not help.
  return err;
}

/** A counting semaphore: take() waits while `size` are out. */
function createBudget(size: number): { take(): Promise<void>; give(): void } {
  let out = 0;
  const waiting: Array<() => void> = [];
  return {
    async take() {
      while (out >= size) await new Promise<void>((resolve) => waiting.push(resolve));
      out++;
    },
    give() {
      out--;
      waiting.shift()?.();
    },
  };
}
