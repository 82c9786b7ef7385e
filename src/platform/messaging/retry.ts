/**
 * Retry policy for consumer handlers: how long to wait, and which failures are worth waiting out at all.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { exponentialDelay } from '../shared/retry.ts';

export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  factor?: number;
}

/** Either exponential settings or a function of the 1-based retry number (tests pass `() => 5`). */
export type Backoff = BackoffOptions | ((retry: number) => number);

/**
 * Exponential with ±20 % jitter: after an outage every consumer of every group retries at once, and jitter
 * keeps them from hitting the recovering database in lockstep.
 */
export function backoffDelay(backoff: Backoff | undefined, retry: number, random: () => number = Math.random): number {
  if (typeof backoff === 'function') return Math.max(0, backoff(retry));
  return exponentialDelay(retry, { ...backoff, jitter: 0.2 }, random);
}

/**
 * Sleeps in slices no longer than `sliceMs`, heartbeating between them: a consumer silent for a whole session
 * timeout is evicted from its group, and its partitions move to another member mid-retry. An abort (shutdown)
 * ends the sleep early; a failing heartbeat throws, because the partition may no longer be ours.
 */
export async function sleepWithHeartbeat(ms: number, sliceMs: number, heartbeat: () => Promise<void>, signal: AbortSignal): Promise<void> {
  const until = Date.now() + ms;
  for (let left = ms; left > 0 && !signal.aborted; left = until - Date.now()) {
    try {
      await sleep(Math.min(left, sliceMs), undefined, { signal });
    } catch {
      return; // aborted
    }
    await heartbeat();
  }
}

// Node and nodemailer socket errors, and PostgreSQL SQLSTATEs that mean "try again later" rather than "this
// event is bad": class 08 (connection), 40001/40P01 (serialization, deadlock), 53xxx (resources),
// 55P03 (lock_timeout: a peer holds the row, e.g. the notifier's claim of the same mail), 57014 (a statement
// cancelled, e.g. by statement_timeout), 25P03/57P05 (a session ended for idling), 57P01-57P03 (server shutting
// down or starting).
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ECONNECTION',
  'ESOCKET',
  'EDNS',
  '40001',
  '40P01',
  '55P03',
  '57014',
  '25P03',
  '57P01',
  '57P02',
  '57P03',
  '57P05',
]);
const TRANSIENT_CODE_PREFIXES = ['08', '53'];
// node-postgres reports a dropped connection and a pool timeout without a code.
const TRANSIENT_MESSAGES = [/Connection terminated/i, /timeout exceeded when trying to connect/i, /Query read timeout/i];

// AWS SDK v3 errors carry no `code`: they are recognised by name (throttling, capacity, timeouts) and by the
// HTTP status in `$metadata` (5xx is the service's failure, not the request's), or by the SDK's own `$retryable`.
const AWS_TRANSIENT_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'LimitExceededException',
  'TransactionInProgressException',
  'InternalServerError',
  'InternalFailure',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'NetworkingError',
]);

const isAwsTransient = (e: { name?: unknown; $metadata?: unknown; $retryable?: unknown }): boolean => {
  if (typeof e.$retryable === 'object' && e.$retryable !== null) return true;
  if (typeof e.name === 'string' && AWS_TRANSIENT_NAMES.has(e.name)) return true;
  const status = (e.$metadata as { httpStatusCode?: unknown } | undefined)?.httpStatusCode;
  return typeof status === 'number' && (status >= 500 || status === 429);
};

/**
 * Default classifier. A transient failure is retried for as long as it lasts and never dead-lettered: during a
 * database outage every event would otherwise fail its retries and the DLQ would swallow the whole stream.
 * An error can also opt in explicitly with `transient: true` (PublishTimeoutError does).
 */
export function isTransientError(err: unknown, depth = 0): boolean {
  if (typeof err !== 'object' || err === null || depth > 5) return false;
  const e = err as {
    code?: unknown;
    transient?: unknown;
    retriable?: unknown;
    responseCode?: unknown;
    message?: unknown;
    cause?: unknown;
    name?: unknown;
  };
  // An error that says what it is wins: EventDataError and ProjectionGapError are `transient: false`.
  if (e.transient === false) return false;
  // `retriable` is how kafkajs marks its own errors (a handler that itself produces, e.g. a process manager).
  if (e.transient === true || e.retriable === true) return true;
  if (isAwsTransient(e as Parameters<typeof isAwsTransient>[0])) return true;
  if (
    typeof e.code === 'string' &&
    (TRANSIENT_CODES.has(e.code) ||
      TRANSIENT_CODE_PREFIXES.some((p) => (e.code as string).startsWith(p) && (e.code as string).length === 5))
  ) {
    return true;
  }
  // SMTP 4xx replies are "try again later" by definition (RFC 5321 §4.2.1).
  if (typeof e.responseCode === 'number' && e.responseCode >= 400 && e.responseCode < 500) return true;
  if (typeof e.message === 'string' && TRANSIENT_MESSAGES.some((re) => re.test(e.message as string))) return true;
  return isTransientError(e.cause, depth + 1);
}
