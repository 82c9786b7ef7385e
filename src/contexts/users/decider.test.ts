import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { spec } from '../../../test/support/decider.ts';
import type { UserCommand } from './decider.ts';
import { normaliseEmail, registrationChecks, userDecider } from './decider.ts';
import { emailClaimDecider, emailClaimStreamId, legacyEmailClaimStreamId } from './email-claim.ts';
import type { UserRegistered } from './events.ts';
import { isUserEventType } from './events.ts';

const NOW = '2025-01-01T10:00:00.000Z';
const register = (over: Partial<UserCommand> = {}): UserCommand => ({
  type: 'RegisterUser',
  user_id: 'u-1',
  email: '  Taro@Example.COM ',
  name: ' 山田太郎 ',
  role: 'customer',
  now: NOW,
  ...over,
});
const registered: UserRegistered = {
  type: 'UserRegistered',
  data: {
    user_id: 'u-1',
    email: 'taro@example.com',
    name: '山田太郎',
    role: 'customer',
    registered_at: NOW,
  },
};

describe('User', () => {
  it('registers with a normalised email and trimmed name', () => {
    spec(userDecider).given([]).when(register()).then([registered]);
  });

  it('registers an admin', () => {
    spec(userDecider)
      .given([])
      .when(register({ role: 'admin' }))
      .then([{ ...registered, data: { ...registered.data, role: 'admin' } }]);
  });

  it('refuses a second registration of the same user', () => {
    spec(userDecider).given([registered]).when(register()).thenThrows({ kind: 'conflict', code: 'user_exists' });
  });

  for (const email of [
    '',
    'no-at-sign',
    'a@b',
    'a b@example.com',
    'a@example..com',
    `${'x'.repeat(65)}@example.com`,
    'a@exa mple.com',
    'a@-example.com',
  ]) {
    it(`refuses the email ${JSON.stringify(email)}`, () => {
      const err = spec(userDecider).given([]).when(register({ email })).thenThrows({ kind: 'validation' });
      assert.deepEqual(
        err.errors?.map((e) => e.field),
        ['email'],
      );
    });
  }

  it('accepts a name of 100 characters and refuses 0 or 101 (counted in code points)', () => {
    spec(userDecider)
      .given([])
      .when(register({ name: '寿'.repeat(100) }))
      .then([{ ...registered, data: { ...registered.data, name: '寿'.repeat(100) } }]);
    for (const name of ['   ', '寿'.repeat(101), 'a\nb']) {
      spec(userDecider)
        .given([])
        .when(register({ name }))
        .thenThrows((e) => e.errors?.[0]?.field === 'name');
    }
  });

  it('refuses an unknown role and a bad id, reporting every field', () => {
    const err = spec(userDecider)
      .given([])
      .when(register({ role: 'root' as never, user_id: '' }))
      .thenThrows('validation_failed');
    assert.deepEqual(
      err.errors?.map((e) => e.field),
      ['user_id', 'role'],
    );
  });

  it('never puts a credential into an event (DESIGN §3)', () => {
    const [event] = userDecider.decide(register(), userDecider.initialState());
    assert.deepEqual(Object.keys(event!.data).sort(), ['email', 'name', 'registered_at', 'role', 'user_id']);
  });

  it('checks registration fields without a decision (before the password is hashed)', () => {
    assert.deepEqual(registrationChecks(' Taro@Example.COM ', ' 太郎 '), [null, null]);
    assert.deepEqual(
      registrationChecks('nope', 'a\nb').map((c) => c?.field),
      ['email', 'name'],
    );
  });

  it('treats a malformed now as a programming error, not a validation error', () => {
    assert.throws(() => userDecider.decide(register({ now: 'yesterday' }), userDecider.initialState()), TypeError);
  });

  it('folds the registration into state', () => {
    const s = userDecider.evolve(userDecider.initialState(), registered);
    assert.deepEqual(s, { status: 'registered', ...registered.data });
  });

  it('knows its event type names', () => {
    assert.equal(isUserEventType('UserRegistered'), true);
    assert.equal(isUserEventType('ProductCreated'), false);
    assert.equal(isUserEventType('toString'), false);
  });
});

describe('EmailClaim', () => {
  const claimed = { type: 'EmailClaimed' as const, data: { email: 'taro@example.com', user_id: 'u-1' } };

  it('keys the stream by a hash of the normalised email: safe characters, fixed length, no address in ids', () => {
    assert.equal(emailClaimStreamId(' Taro@Example.com'), emailClaimStreamId('taro@example.com'));
    assert.match(emailClaimStreamId('taro@example.com'), /^user-email:[A-Za-z0-9_-]{43}$/);
    assert.notEqual(emailClaimStreamId('taro@example.com'), emailClaimStreamId('jiro@example.com'));
    assert.equal(legacyEmailClaimStreamId(' Taro@Example.com'), 'user-email:taro@example.com', 'what older releases wrote');
    assert.equal(normaliseEmail(' A@B.CO '), 'a@b.co');
  });

  it('claims a free email', () => {
    spec(emailClaimDecider).given([]).when({ type: 'ClaimEmail', email: 'TARO@example.com', user_id: 'u-1' }).then([claimed]);
  });

  it('refuses an email claimed by another user', () => {
    spec(emailClaimDecider)
      .given([claimed])
      .when({ type: 'ClaimEmail', email: 'taro@example.com', user_id: 'u-2' })
      .thenThrows({ kind: 'conflict', code: 'email_taken' });
  });

  it('is idempotent for the same user', () => {
    spec(emailClaimDecider).given([claimed]).when({ type: 'ClaimEmail', email: 'taro@example.com', user_id: 'u-1' }).then([]);
  });

  it('validates the email', () => {
    spec(emailClaimDecider).given([]).when({ type: 'ClaimEmail', email: 'nope', user_id: 'u-1' }).thenThrows('validation_failed');
  });
});
