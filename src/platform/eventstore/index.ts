/**
 * The event store as the processes use it: the contract (types.ts), its DynamoDB implementation, table setup
 * and the session store. The in-memory twin (memory.ts) and the load/retry helpers (aggregate.ts) are imported
 * from their own files by the few places that use them.
 */
export * from './types.ts';
export { createDynamoEventStore } from './dynamodb.ts';
export { createDynamoClient } from './client.ts';
export { ensureTables } from './tables.ts';
export { DEFAULT_OUTBOX_SHARDS } from './dynamodb-items.ts';
export { createDynamoSessionStore } from './sessions.ts';
export type { SessionStore } from './sessions.ts';
