/**
 * kafkajs clients that are thrown away and made again when they may be wedged.
 *
 * Why: kafkajs 2.2.4 can end up in a state it never leaves by itself. A broker that is frozen (SIGSTOP, a long
 * GC pause, a VM migration) still completes TCP handshakes in the kernel, so a client that connects meanwhile
 * gets a socket, sends ApiVersions and times out waiting for the answer. Broker.connect() then throws before it
 * ever sets its request lookup, but the socket stays open, so isConnected() is true from then on and every later
 * connect() returns at once without retrying the handshake. Each request of that client throws the plain
 * `Error('Broker not connected')` forever — after the broker is long back (issue 9: the worker's sweeper failed
 * for 5 minutes with 1,730 events stuck in the outbox). Only a new client (a new Cluster, a new seed broker)
 * leaves the state, so a client that failed for any reason other than the records it was given is replaced on
 * its next use. A replacement costs a reconnect; a wedged client costs everything.
 */
import type { Admin, Kafka } from 'kafkajs';
import type { Logger } from './log.ts';
import { waitAtMost } from '../shared/timeout.ts';

interface Connectable {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
}

export interface ManagedClientOptions<C extends Connectable> {
  /** Makes a fresh, unconnected client. */
  make: () => C;
  /** For the log line of a replacement, e.g. `producer` or `admin`. */
  name: string;
  log: Logger;
  /** A retired client's disconnect may wait for its requests to time out; it is abandoned after this. Default 15 s. */
  retireTimeoutMs?: number;
  /** Errors that say nothing about the client's state (a record the broker refused): the client is kept. */
  keepOn?: (err: unknown) => boolean;
}

export interface ManagedClient<C extends Connectable> {
  /** Runs `work` on a connected client; a failure (other than keepOn) has the client replaced on the next use. */
  use<T>(work: (client: C) => Promise<T>): Promise<T>;
  /** Retires the current client now (a health probe that wants a fresh handshake). */
  replace(reason: string): void;
  /** Clients replaced so far. */
  replacements(): number;
  disconnect(): Promise<void>;
}

interface Slot<C> {
  client: C;
  connected?: Promise<void>;
  broken: boolean;
}

export function createManagedClient<C extends Connectable>(opts: ManagedClientOptions<C>): ManagedClient<C> {
  const retireTimeoutMs = opts.retireTimeoutMs ?? 15_000;
  let current: Slot<C> | undefined;
  let replaced = 0;
  let closed = false;
  let lastReason = '';

  const retire = (slot: Slot<C>) => {
    void waitAtMost(slot.client.disconnect(), retireTimeoutMs);
  };

  const slot = (): Slot<C> => {
    if (closed) throw new Error(`kafka ${opts.name} is disconnected`);
    if (current && !current.broken) return current;
    if (current) {
      replaced += 1;
      opts.log.info(`kafka ${opts.name} replaced by a fresh client`, { reason: lastReason, replacements: replaced });
      retire(current);
    }
    current = { client: opts.make(), broken: false };
    return current;
  };

  const markBroken = (s: Slot<C>, reason: string) => {
    if (s.broken) return;
    s.broken = true;
    lastReason = reason;
  };

  return {
    async use(work) {
      const s = slot();
      try {
        s.connected ??= s.client.connect();
        await s.connected;
        return await work(s.client);
      } catch (err) {
        if (!opts.keepOn?.(err)) markBroken(s, err instanceof Error ? `${err.name}: ${err.message}` : String(err));
        throw err;
      }
    },
    replace(reason) {
      if (current) markBroken(current, reason);
    },
    replacements: () => replaced,
    async disconnect() {
      closed = true;
      const s = current;
      current = undefined;
      if (s) await s.client.disconnect();
    },
  };
}

/** The broker refused these records (too large, invalid): resending them cannot help, and the client is fine. */
const RECORD_REJECTIONS = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'CORRUPT_MESSAGE',
  'UNSUPPORTED_FOR_MESSAGE_FORMAT',
  'INVALID_TIMESTAMP',
]);

/** The broker's refusal inside `err` (kafkajs wraps it in retry errors), if that is what `err` is. */
export function recordRejectionOf(err: unknown, depth = 0): (Error & { type: string }) | undefined {
  if (typeof err !== 'object' || err === null || depth > 5) return undefined;
  const e = err as Error & { type?: unknown; cause?: unknown };
  if (typeof e.type === 'string' && RECORD_REJECTIONS.has(e.type)) return e as Error & { type: string };
  return recordRejectionOf(e.cause, depth + 1);
}

export const isRecordRejection = (err: unknown): boolean => recordRejectionOf(err) !== undefined;

export type ManagedAdmin = ManagedClient<Admin>;

export function createManagedAdmin(kafka: Kafka, log: Logger): ManagedAdmin {
  return createManagedClient({ make: () => kafka.admin(), name: 'admin', log });
}
