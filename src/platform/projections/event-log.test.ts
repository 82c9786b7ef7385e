import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redact, redactedJson } from './event-log.ts';

test('redact removes password hashes and other secrets at any depth, and keeps everything else', () => {
  const data = {
    user_id: 'u1',
    email: 'a@example.com',
    password_hash: 'scrypt$…',
    nested: { refresh_token: 'x', keep: [{ Password: 'p', n: 1 }] },
  };
  assert.deepEqual(redact(data), { user_id: 'u1', email: 'a@example.com', nested: { keep: [{ n: 1 }] } });
  assert.equal(redact(null), null);
  assert.equal(redact(3), 3);
});

test('redactedJson serialises exactly what redact keeps, in one pass', () => {
  const data = { password_hash: 'x', items: [{ api_token: 't', n: 1 }, 2, null], nested: { Secret: 1, keep: 'k\\t\n' }, z: undefined };
  assert.equal(redactedJson(data), JSON.stringify(redact(data)));
  assert.deepEqual(JSON.parse(redactedJson(data)), { items: [{ n: 1 }, 2, null], nested: { keep: 'k\\t\n' } });
  assert.equal(redactedJson(undefined), 'null');
  assert.equal(redactedJson('password'), '"password"');
});

test('redactedJson drops every kind of secret-named key, also when nothing else in the value looks secret (its fast path)', () => {
  const keys = ['pass', 'passwd', 'passphrase', 'password', 'userPassword', 'client_secret', 'access_token', 'Authorization', 'cookie'];
  keys.push('api_key', 'apiKey', 'private-key', 'credentials', 'password_hash', 'hash', 'signature');
  for (const key of keys) {
    const data = { order_id: 'o1', nested: { [key]: 'v', n: 1 } };
    assert.equal(redactedJson(data), JSON.stringify(redact(data)), key);
    assert.deepEqual(JSON.parse(redactedJson(data)), { order_id: 'o1', nested: { n: 1 } }, key);
  }
  const plain = { order_id: 'o1', items: [{ product_id: 'p', quantity: 2, name: 'Tea \\ "cup"' }], total: 300 };
  assert.equal(redactedJson(plain), JSON.stringify(plain));
});
