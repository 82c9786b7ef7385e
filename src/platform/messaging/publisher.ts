/**
 * The api's half of the dual write (docs/event-store.md, the outbox): after the DynamoDB transaction, publish the new events and,
 * only once the broker has acknowledged them, let the caller clear their outbox marker. A rejected publish is
 * not data loss — the events stay marked and the worker's sweeper republishes them — so the one thing this
 * must never do is make a command wait on a dead broker: every publish settles within `timeoutMs`.
 */
import { Partitioners } from 'kafkajs';
import type { Kafka, Producer } from 'kafkajs';
import type { EventEnvelope } from '../shared/envelope.ts';
import { encodeEnvelope } from './codec.ts';
import { createManagedClient, isRecordRejection } from './managed.ts';
import type { Logger } from './log.ts';
import { silentLogger } from './log.ts';
import { withTimeout } from '../shared/timeout.ts';

export interface PublisherOptions {
  topic: string;
  /** Upper bound on one publish, connecting included. */
  timeoutMs?: number;
  log?: Logger;
}

export interface Publisher {
  /** Connects eagerly; optional, since publish connects on demand. Rejects within timeoutMs when the broker is down. */
  connect(): Promise<void>;
  /**
   * Resolves once every event is acknowledged by all in-sync replicas. Otherwise rejects, never later than
   * timeoutMs, and at once (PublishUnavailableError) while the broker is known to be down.
   */
  publish(events: readonly EventEnvelope[]): Promise<void>;
  /** For readiness: false from a failed publish until one succeeds (or probe() got a fresh handshake through). */
  health(): PublisherHealth;
  /** When unhealthy and idle: tries a fresh client's handshake, within timeoutMs. True once healthy again. */
  probe(): Promise<boolean>;
  disconnect(): Promise<void>;
}

export interface PublisherHealth {
  ok: boolean;
  /** When ok last changed. */
  since: string;
  /** kafkajs producers replaced so far (managed.ts). */
  replacements: number;
  last_error?: string;
}

/** Kafka failed recently and a probe publish is still in flight: fail now rather than queue behind it. */
export class PublishUnavailableError extends Error {
  readonly transient = true;

  constructor() {
    super('Kafka is unavailable (a recent publish failed and a probe is in flight)');
    this.name = 'PublishUnavailableError';
  }
}

export class PublishTimeoutError extends Error {
  /** A broker outage passes: a consumer handler that publishes should retry this, not dead-letter (retry.ts). */
  readonly transient = true;

  constructor(what: string, ms: number) {
    super(`${what} not acknowledged by Kafka within ${ms} ms`);
    this.name = 'PublishTimeoutError';
  }
}

/**
 * Every producer of `ec-events` (this one in the api, the sweeper's in the worker, any replay tool) must use
 * the same partitioner, or a republished event could land in another partition than the rest of its aggregate
 * and lose its order. kafkajs' DefaultPartitioner is Java's murmur2 mapping; with kcat use
 * `-X topic.partitioner=murmur2_random` to match.
 */
export function producerFor(kafka: Kafka): Producer {
  return kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    // Topics are created deliberately (topics.ts); a typo must fail, not create a topic nobody reads.
    allowAutoTopicCreation: false,
    // Not idempotent: the dev broker need not implement InitProducerId, and consumers are idempotent per
    // event (§5) anyway, so a duplicate from a producer retry costs nothing.
    idempotent: false,
    // Few, short retries: the publish deadline bounds the caller, and this bounds the work left running in
    // the background after a deadline passed.
    retry: { initialRetryTime: 100, maxRetryTime: 1_000, retries: 3 },
  });
}

export function createPublisher(kafka: Kafka, opts: PublisherOptions): Publisher {
  const topic = opts.topic;
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const log = opts.log ?? silentLogger();
  // Replaced after any failure that is not the broker refusing the records (managed.ts): a client that failed
  // its handshake while the broker was frozen would otherwise fail every publish forever. Between failures the
  // one client stays connected, and kafkajs reconnects it inside send after a dropped connection.
  const producer = createManagedClient({ make: () => producerFor(kafka), name: 'producer', log, keepOn: isRecordRejection });
  // After a failure, only one publish at a time goes to the broker (the probe); the others fail at once.
  // Without this every command during an outage would wait the full deadline, and each would leave its own
  // chain of reconnect attempts running in the background. The probe's kafkajs retries keep running past
  // its deadline, so it also notices the broker's return.
  let healthy = true;
  let probe: Promise<unknown> | undefined;
  let changedAt = Date.now();
  let lastError: string | undefined;

  const setHealthy = (ok: boolean, err?: unknown) => {
    if (ok !== healthy) changedAt = Date.now();
    healthy = ok;
    if (!ok) lastError = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  };

  const withDeadline = async <T>(what: string, work: Promise<T>): Promise<T> => {
    // The work may still settle after the deadline (kafkajs keeps retrying for a while). A late success only
    // means a duplicate once the sweeper republishes; a late failure must not become an unhandled rejection.
    work.catch((err: unknown) => log.debug('kafka operation failed after its caller gave up', { what, err }));
    return withTimeout(work, timeoutMs, () => new PublishTimeoutError(what, timeoutMs));
  };

  const trackProbe = (work: Promise<unknown>) => {
    const p: Promise<void> = work
      .then(
        () => setHealthy(true),
        () => {},
      )
      .finally(() => {
        clearTimeout(timer);
        if (probe === p) probe = undefined;
      });
    probe = p;
    // A probe is given one more deadline, not kafkajs' whole retry budget (its requests time out after 10 s
    // each, several times): a probe whose requests went to a frozen broker would otherwise hold every publish
    // off for long after the broker is back. Past it, the client is replaced and the next publish probes anew.
    const timer = setTimeout(() => {
      if (probe !== p) return;
      probe = undefined;
      producer.replace('a probe publish did not settle within its deadline');
    }, timeoutMs);
    timer.unref();
  };

  const guarded = async <T>(what: string, start: () => Promise<T>): Promise<T> => {
    if (!healthy && probe) throw new PublishUnavailableError();
    const work = start();
    // While unhealthy, the one attempt let through is the probe from its start: publishes arriving meanwhile
    // fail at once instead of each waiting out a deadline of its own.
    if (!healthy) trackProbe(work);
    try {
      const result = await withDeadline(what, work);
      setHealthy(true);
      return result;
    } catch (err) {
      // The broker refused these records: Kafka itself is fine, the caller must deal with the records.
      if (isRecordRejection(err)) throw err;
      if (healthy) log.warn('kafka publish failed; failing fast until a probe succeeds', { topic, err });
      setHealthy(false, err);
      // The failed attempt, if still retrying past its deadline, becomes the probe.
      if (!probe) trackProbe(work);
      throw err;
    }
  };

  return {
    connect: () => guarded('connect', () => producer.use(async () => {})),
    async publish(events) {
      if (events.length === 0) return;
      await guarded(`publish of ${events.length} event(s)`, () =>
        producer.use((p) =>
          // One request: kafkajs groups the messages per partition into record batches, and a batch is
          // appended atomically, so events of one aggregate in one call keep their relative order.
          p.send({ topic, acks: -1, timeout: timeoutMs, messages: events.map(encodeEnvelope) }),
        ),
      );
    },
    health: () => ({
      ok: healthy,
      since: new Date(changedAt).toISOString(),
      replacements: producer.replacements(),
      ...(healthy || !lastError ? {} : { last_error: lastError }),
    }),
    async probe() {
      if (healthy) return true;
      if (probe) return false;
      // Idle after a failure: nothing would ever find out that the broker is back. A fresh client's handshake
      // is a real round trip to the broker, unlike connect() on the old one (see managed.ts).
      producer.replace('readiness probe after a failed publish');
      try {
        await guarded('probe', () => producer.use(async () => {}));
        return true;
      } catch {
        return false;
      }
    },
    async disconnect() {
      await producer.disconnect();
    },
  };
}
