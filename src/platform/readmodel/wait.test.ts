import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseNotification } from './wait.ts';

test('notification payloads split at the last colon (aggregate ids may contain colons)', () => {
  assert.deepEqual(parseNotification('order-1:7'), { aggregateId: 'order-1', version: 7 });
  assert.deepEqual(parseNotification('a:b:12'), { aggregateId: 'a:b', version: 12 });
  for (const bad of [undefined, '', 'no-version', ':3', 'x:1.5', 'x:']) assert.equal(parseNotification(bad), null, String(bad));
});
