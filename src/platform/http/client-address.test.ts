import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addressKey, resolveClientAddress, trustList } from './client-address.ts';

test('without trusted proxies X-Forwarded-For is ignored: the socket peer is the client', () => {
  const none = trustList([]);
  assert.equal(resolveClientAddress('203.0.113.7', '1.2.3.4', none), '203.0.113.7');
  assert.equal(resolveClientAddress('::ffff:203.0.113.7', undefined, none), '203.0.113.7');
  assert.equal(resolveClientAddress(undefined, '1.2.3.4', none), 'unknown');
  assert.equal(
    resolveClientAddress('127.0.0.1', '1.2.3.4', none),
    '127.0.0.1',
    'loopback is not special: a local proxy must be configured',
  );
});

test('behind a trusted proxy the rightmost untrusted hop is the client; what the client wrote is ignored', () => {
  const proxies = trustList(['10.0.0.0/8', '127.0.0.1']);
  assert.equal(resolveClientAddress('10.1.2.3', '198.51.100.9', proxies), '198.51.100.9');
  assert.equal(resolveClientAddress('10.1.2.3', 'spoofed-by-client, 1.1.1.1, 198.51.100.9', proxies), '198.51.100.9');
  assert.equal(resolveClientAddress('127.0.0.1', '198.51.100.9, 10.9.9.9', proxies), '198.51.100.9', 'a chain of proxies');
  assert.equal(resolveClientAddress('10.1.2.3', undefined, proxies), '10.1.2.3');
  assert.equal(resolveClientAddress('10.1.2.3', 'garbage', proxies), '10.1.2.3');
  assert.equal(resolveClientAddress('10.1.2.3', '[2001:db8::1]', proxies), '2001:db8::1');
  assert.equal(resolveClientAddress('203.0.113.7', '198.51.100.9', proxies), '203.0.113.7', 'an untrusted peer cannot forward');
});

test('an IPv6 client is keyed by its /64, an IPv4 client by its address', () => {
  assert.equal(addressKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
  assert.equal(addressKey('2001:db8:1:2:bbbb:cccc:dddd:eeee'), '2001:db8:1:2::/64');
  assert.equal(addressKey('::1'), '0:0:0:0::/64');
  assert.equal(addressKey('203.0.113.7'), '203.0.113.7');
  assert.equal(addressKey('unknown'), 'unknown');
});
