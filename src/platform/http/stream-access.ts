import type { Principal } from '../shared/principal.ts';
import type { EventStore } from '../eventstore/types.ts';
import type { AggregateType } from '../shared/envelope.ts';
import { UUID_PATTERN } from '../shared/validate.ts';

/**
 * Whether a caller may read a stream, decided cheaply and before the stream is read: admins read everything; a
 * customer their own user stream, their cart (`cart-<user_id>`) and their orders; anyone the `open` types (the
 * public catalogue, for read-your-writes waits). Stream ids name their kind, so inventories, shipments and claim
 * streams are refused without a read; a UUID costs one single-item read of the stream's first event, which names
 * the aggregate type and, for an order, its owner. Never the whole stream: a refusal must be cheap.
 */
export async function mayRead(
  store: EventStore,
  user: Principal | undefined,
  aggregateId: string,
  open: readonly AggregateType[] = [],
): Promise<boolean> {
  if (user?.role === 'admin') return true;
  if (aggregateId.startsWith('cart-')) return user !== undefined && aggregateId === `cart-${user.user_id}`;
  if (!UUID_PATTERN.test(aggregateId)) return false;
  if (user && aggregateId === user.user_id) return true;
  const [first] = await store.readStream(aggregateId, { toVersion: 1 });
  if (!first) return false;
  if (open.includes(first.aggregate_type)) return true;
  return first.aggregate_type === 'Order' && user !== undefined && first.data.user_id === user.user_id;
}
