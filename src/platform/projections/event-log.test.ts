import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redact } from './event-log.ts';

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
