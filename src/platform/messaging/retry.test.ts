import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelay, isTransientError, sleepWithHeartbeat } from './retry.ts';

describe('backoffDelay', () => {
  it('doubles from 200 ms and caps at 5 s by default', () => {
    const mid = () => 0.5; // no jitter
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7].map((n) => backoffDelay(undefined, n, mid)),
      [200, 400, 800, 1600, 3200, 5000, 5000],
    );
  });

  it('jitters within ±20 %', () => {
    assert.equal(
      backoffDelay({ initialMs: 1000 }, 1, () => 0),
      800,
    );
    assert.equal(
      backoffDelay({ initialMs: 1000 }, 1, () => 1),
      1200,
    );
  });

  it('takes a function of the retry number', () => {
    assert.equal(
      backoffDelay((n) => n * 7, 3),
      21,
    );
    assert.equal(
      backoffDelay(() => -5, 1),
      0,
    );
  });
});

describe('sleepWithHeartbeat', () => {
  it('heartbeats at least once per slice while it sleeps', async () => {
    let beats = 0;
    const started = Date.now();
    await sleepWithHeartbeat(100, 10, async () => void beats++, new AbortController().signal);
    assert.ok(Date.now() - started >= 95);
    // ~10 on an idle machine; a loaded one stretches each slice, so only demand clearly more than one.
    assert.ok(beats >= 3, `only ${beats} heartbeats`);
  });

  it('returns early when aborted', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 20);
    const started = Date.now();
    await sleepWithHeartbeat(5_000, 1_000, async () => {}, ac.signal);
    assert.ok(Date.now() - started < 1_000);
  });

  it('lets a failed heartbeat (lost membership) escape', async () => {
    await assert.rejects(
      sleepWithHeartbeat(50, 5, async () => Promise.reject(new Error('REBALANCE_IN_PROGRESS')), new AbortController().signal),
      /REBALANCE_IN_PROGRESS/,
    );
  });
});

describe('isTransientError', () => {
  const withCode = (code: string) => Object.assign(new Error(code), { code });

  it('waits out outages: sockets, PostgreSQL connection/shutdown/serialization, SMTP 4xx, kafkajs retriable', () => {
    for (const e of [
      withCode('ECONNREFUSED'),
      withCode('ECONNRESET'),
      withCode('08006'),
      withCode('57P01'),
      withCode('40001'),
      withCode('53300'),
      withCode('55P03'), // lock_timeout on the notifier's claim: a peer is sending that mail right now
      withCode('25P03'), // the session was ended for idling in a transaction
      withCode('57014'), // statement cancelled
      new Error('Query read timeout'),
      Object.assign(new Error('try later'), { responseCode: 451 }),
      Object.assign(new Error('leader not available'), { retriable: true }),
      new Error('Connection terminated unexpectedly'),
      Object.assign(new Error('mine'), { transient: true }),
      new Error('wrapped', { cause: withCode('ETIMEDOUT') }),
    ]) {
      assert.equal(isTransientError(e), true, `${e.message} should be transient`);
    }
  });

  it('recognises AWS SDK v3 errors (no code field) by name, $metadata status and $retryable', () => {
    const aws = (name: string, httpStatusCode: number, extra: object = {}) =>
      Object.assign(new Error(name), {
        name,
        $fault: httpStatusCode >= 500 ? 'server' : 'client',
        $metadata: { httpStatusCode },
        ...extra,
      });
    for (const e of [
      aws('ProvisionedThroughputExceededException', 400),
      aws('ThrottlingException', 400),
      aws('RequestLimitExceeded', 400),
      aws('InternalServerError', 500),
      aws('SomethingNew', 503),
      aws('TooManyRequests', 429),
      aws('TransactionConflictException', 400, { $retryable: { throttling: false } }),
      Object.assign(new Error('socket timed out'), { name: 'TimeoutError' }),
    ]) {
      assert.equal(isTransientError(e), true, `${e.message} should be transient`);
    }
  });

  it('treats bugs and bad data as permanent, so they end in the DLQ', () => {
    for (const e of [
      new Error('boom'),
      new TypeError('cannot read properties of undefined'),
      withCode('23505'), // unique violation
      withCode('22P02'), // invalid text representation
      withCode('0800'), // not a SQLSTATE: a prefix alone is not enough
      Object.assign(new Error('mailbox unavailable'), { responseCode: 550 }),
      Object.assign(new Error('ValidationException'), { name: 'ValidationException', $metadata: { httpStatusCode: 400 } }),
      Object.assign(new Error('ConditionalCheckFailed'), { name: 'ConditionalCheckFailedException', $metadata: { httpStatusCode: 400 } }),
      // Bad data says so, even over a transient-looking cause.
      Object.assign(new Error('bad event', { cause: withCode('ECONNRESET') }), { transient: false }),
      'a string',
      null,
    ]) {
      assert.equal(isTransientError(e), false, `${String(e)} should be permanent`);
    }
  });
});
