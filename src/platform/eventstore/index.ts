/**
 * The event store: the contract (types.ts), its DynamoDB implementation and table setup, the in-memory twin
 * for unit tests, and the load/retry helpers of the command layer. contract.ts (the shared test suite) is
 * deliberately not exported: it imports node:test.
 */
export * from './types.ts';
export { createDynamoEventStore } from './dynamodb.ts';
export type { DynamoEventStoreConfig } from './dynamodb.ts';
export { createDynamoClient } from './client.ts';
export type { DynamoClientOptions } from './client.ts';
export { ensureTables, eventsTable, snapshotsTable, idempotencyTable, authTable } from './tables.ts';
export { DEFAULT_TABLES, DEFAULT_OUTBOX_SHARDS, OUTBOX_INDEX } from './dynamodb-items.ts';
export type { EventStoreTables } from './dynamodb-items.ts';
export { IDEMPOTENCY_TTL_SECONDS } from './plan.ts';
export { createDynamoSessionStore, createMemorySessionStore } from './sessions.ts';
export type { SessionStore, RotateResult, SessionFamily } from './sessions.ts';
export { createMemoryEventStore } from './memory.ts';
export type { MemoryEventStoreOptions } from './memory.ts';
export { loadAggregate, retryOnConflict } from './aggregate.ts';
export type { Loaded, LoadOptions, RetryOptions, SnapshotPolicy } from './aggregate.ts';
