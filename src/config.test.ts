import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from './config.ts';

test('development defaults match make dev', () => {
  const config = loadConfig({});
  assert.equal(config.http.port, 8080);
  assert.deepEqual(config.kafka.brokers, ['127.0.0.1:9092']);
  assert.equal(config.auth.adminEmail, 'admin@example.com');
  assert.equal(config.orders.reservationTtlSeconds, 900);
});

test('production requires a JWT secret of at least 32 characters and an admin password', () => {
  assert.throws(() => loadConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgres://x' }), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /JWT_SECRET is required/);
    assert.match(err.message, /ADMIN_PASSWORD is required/);
    return true;
  });
  assert.throws(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'short', ADMIN_PASSWORD: 'x', DATABASE_URL: 'postgres://x' }), /at least 32/);
  const ok = loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32), ADMIN_PASSWORD: 'secret', DATABASE_URL: 'postgres://x' });
  assert.equal(ok.env, 'production');
});

test('bad numbers name the variable', () => {
  assert.throws(() => loadConfig({ PORT: 'eighty' }), /PORT must be an integer/);
  assert.throws(() => loadConfig({ SHIPMENT_FAILURE_RATE: '2' }), /SHIPMENT_FAILURE_RATE/);
});

test('security settings: no trusted proxy by default, limits and proxies validated', () => {
  const config = loadConfig({});
  assert.deepEqual(config.security.trustedProxies, []);
  assert.deepEqual(config.security.login.perAddressAndEmail, { limit: 10, windowSeconds: 900 });
  assert.equal(config.dynamodb.tables.auth, 'auth');
  const proxied = loadConfig({ TRUSTED_PROXIES: '10.0.0.0/8, 127.0.0.1,::1,fd00::/8', LOGIN_LIMIT_PER_EMAIL: '3' });
  assert.deepEqual(proxied.security.trustedProxies, ['10.0.0.0/8', '127.0.0.1', '::1', 'fd00::/8']);
  assert.equal(proxied.security.login.perEmail.limit, 3);
  for (const bad of ['localhost', '10.0.0.0/33', '1.2.3.4/x', '::1/129', '1.2.3']) {
    assert.throws(() => loadConfig({ TRUSTED_PROXIES: bad }), /TRUSTED_PROXIES/, bad);
  }
  assert.throws(() => loadConfig({ REGISTER_LIMIT_PER_ADDRESS: '0' }), /REGISTER_LIMIT_PER_ADDRESS/);
});
