import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from './config.ts';

const strong = () => ({ JWT_SECRET: randomBytes(48).toString('base64url'), ADMIN_PASSWORD: randomBytes(12).toString('base64url') });
const problemsOf = (env: Record<string, string | undefined>): string => {
  try {
    loadConfig(env);
    return '';
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
};
/** Every NODE_ENV that is not exactly `development` — unset and misspelt ones included — gets the strict rules. */
const NOT_DEVELOPMENT = [undefined, '', 'production', 'test', 'staging', 'prod', 'Production', 'Development', 'dev'];

test('development defaults match make dev, and every listener is on loopback unless HOST says otherwise', () => {
  const config = loadConfig({ NODE_ENV: 'development', DATABASE_URL: 'postgres://x', ...strong() });
  assert.equal(config.env, 'development');
  assert.equal(config.http.port, 8080);
  assert.equal(config.http.host, '127.0.0.1');
  assert.deepEqual(config.kafka.brokers, ['127.0.0.1:9092']);
  assert.equal(config.auth.adminEmail, 'admin@example.com');
  assert.equal(config.orders.reservationTtlSeconds, 900);
  assert.equal(loadConfig({ NODE_ENV: 'development', DATABASE_URL: 'postgres://x', ...strong(), HOST: '0.0.0.0' }).http.host, '0.0.0.0');
  assert.match(problemsOf({ NODE_ENV: 'development', ...strong() }), /DATABASE_URL is required/, 'no default: it would carry a password');
  assert.equal(loadConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgres://x', ...strong() }).http.host, '127.0.0.1');
});

test('no secret has a default: without JWT_SECRET and ADMIN_PASSWORD no process starts, whatever NODE_ENV says', () => {
  for (const NODE_ENV of [...NOT_DEVELOPMENT, 'development']) {
    const message = problemsOf({ NODE_ENV, DATABASE_URL: 'postgres://x' });
    assert.match(message, /JWT_SECRET is required/, `NODE_ENV=${NODE_ENV}`);
    assert.match(message, /ADMIN_PASSWORD is required/, `NODE_ENV=${NODE_ENV}`);
  }
});

test('anything but NODE_ENV=development is production: unset or misspelt values weaken nothing', () => {
  for (const NODE_ENV of NOT_DEVELOPMENT) {
    const base = { NODE_ENV, DATABASE_URL: 'postgres://x' };
    const ok = strong();
    const where = `NODE_ENV=${NODE_ENV}`;
    assert.equal(problemsOf({ ...base, ...ok }), '', where);
    assert.notEqual(loadConfig({ ...base, ...ok }).env, 'development', where);
    assert.match(problemsOf({ ...base, ...ok, JWT_SECRET: 'short-but-random-Qw3' }), /JWT_SECRET must be at least 32/, where);
    assert.match(
      problemsOf({ ...base, ...ok, JWT_SECRET: 'dev-only-secret-change-me-0123456789abcdef' }),
      /JWT_SECRET is a value published/,
      where,
    );
    assert.match(problemsOf({ ...base, ...ok, JWT_SECRET: 'x'.repeat(40) }), /JWT_SECRET looks like a placeholder/, where);
    assert.match(problemsOf({ ...base, ...ok, JWT_SECRET: 'please-change-me-before-going-live-2024' }), /placeholder/, where);
    assert.match(problemsOf({ ...base, ...ok, JWT_SECRET: 'ab'.repeat(20) }), /placeholder/, where);
    assert.match(problemsOf({ ...base, ...ok, ADMIN_PASSWORD: 'admin123' }), /ADMIN_PASSWORD is a well-known default/, where);
    assert.match(problemsOf({ ...base, ...ok, ADMIN_PASSWORD: 'Admin123' }), /ADMIN_PASSWORD is a well-known default/, where);
    assert.match(problemsOf({ ...base, ...ok, ADMIN_PASSWORD: 'Tr0ub4dor&3' }), /at least 12 characters/, where);
    assert.match(problemsOf({ ...base, ...ok, ADMIN_PASSWORD: 'aaaaaaaaaaaaaaaa' }), /too simple/, where);
    assert.match(problemsOf({ ...base, ...ok, ADMIN_PASSWORD: 'my-admin-is-the-best' }), /must not contain the name of ADMIN_EMAIL/, where);
    assert.match(problemsOf({ ...base, ...ok, ADMIN_PASSWORD: 'x' }), /8 to 128/, where);
  }
});

test('NODE_ENV=development allows a simple admin password, but never a short or published JWT secret', () => {
  const base = { NODE_ENV: 'development', DATABASE_URL: 'postgres://x', JWT_SECRET: strong().JWT_SECRET };
  assert.equal(problemsOf({ ...base, ADMIN_PASSWORD: 'admin123' }), '');
  assert.match(problemsOf({ ...base, ADMIN_PASSWORD: 'short' }), /8 to 128/);
  assert.match(
    problemsOf({ ...base, ADMIN_PASSWORD: 'admin123', JWT_SECRET: 'dev-only-jwt-secret-change-me-0123456789abcdef' }),
    /published/,
  );
  assert.match(problemsOf({ ...base, ADMIN_PASSWORD: 'admin123', JWT_SECRET: 'too-short' }), /at least 32/);
});

test('messages name the rule, never the value', () => {
  const secret = 'dev-only-secret-change-me-0123456789abcdef';
  const message = problemsOf({ NODE_ENV: 'production', DATABASE_URL: 'postgres://x', JWT_SECRET: secret, ADMIN_PASSWORD: 'admin123' });
  assert.ok(message.includes('JWT_SECRET') && message.includes('ADMIN_PASSWORD'), message);
  assert.ok(!message.includes(secret) && !message.includes('admin123'), message);
});

test('a process without tokens (npm run rebuild) loads with { secrets: false } and gets none', () => {
  const config = loadConfig({ DATABASE_URL: 'postgres://x' }, { secrets: false });
  assert.equal(config.auth.jwtSecret, '');
  assert.equal(config.auth.adminPassword, '');
  assert.throws(() => loadConfig({ DATABASE_URL: 'postgres://x' }), /JWT_SECRET is required/);
});

/** `NAME=value`, `NAME: value`, `"NAME": "value"` and compose's `${NAME:-value}` for the two secrets. */
function secretValues(text: string): Array<{ name: string; value: string }> {
  const found: Array<{ name: string; value: string }> = [];
  for (const m of text.matchAll(/\$\{(JWT_SECRET|ADMIN_PASSWORD):?-([^}]*)\}/g)) found.push({ name: m[1]!, value: m[2]! });
  for (const m of text.matchAll(/\b(JWT_SECRET|ADMIN_PASSWORD)\b["']?[ \t]*[:=][ \t]*["']?([^\s"'`,;)}]+)/g)) {
    // References (${…}, $VAR, process.env…, a variable) are not values.
    if (!/^\$|^[?:-]|^process\.|^env\b|^secrets?\b|^randomBytes|^\[|^<|^\.\.\./.test(m[2]!)) found.push({ name: m[1]!, value: m[2]! });
  }
  return found;
}

test('no secret assigned anywhere in the repository is accepted (a token forged with it is refused everywhere)', () => {
  assert.deepEqual(
    secretValues(
      'JWT_SECRET=abc\n  JWT_SECRET: ${JWT_SECRET:-def}\n  ADMIN_PASSWORD: "ghi"\n  x = { JWT_SECRET: secrets.jwt }\n  ${ADMIN_PASSWORD:?required}',
    ).map((f) => f.value),
    ['def', 'abc', 'ghi'],
    'the scanner finds values and skips references',
  );
  const root = fileURLToPath(new URL('../../..', import.meta.url));
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' })
    .split('\0')
    // Tests sign tokens with wrong secrets on purpose; those are never a process's secret.
    .filter(
      (f) =>
        f &&
        !/(^|\/)test\/|\.test\.ts$|^bench\//.test(f) &&
        /\.(ts|js|json|ya?ml|md|sh|html)$|(^|\/)(Makefile|Dockerfile|\.env\.example)$/.test(f),
    );
  assert.ok(
    files.includes('docker-compose.yml') && files.includes('.env.example') && files.includes('src/platform/shared/config.ts'),
    'the scan covers the files that carried defaults',
  );
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(path.join(root, file), 'utf8');
    } catch {
      continue; // deleted in the work tree
    }
    for (const { name, value } of secretValues(text)) {
      const env = { NODE_ENV: 'production', DATABASE_URL: 'postgres://x', ...strong(), [name]: value };
      assert.notEqual(problemsOf(env), '', `${file}: ${name} has a value in the repository that a process would accept`);
    }
  }
});

test('bad numbers name the variable', () => {
  const ok = { NODE_ENV: 'development', DATABASE_URL: 'postgres://x', ...strong() };
  assert.throws(() => loadConfig({ ...ok, PORT: 'eighty' }), /PORT must be an integer/);
  assert.throws(() => loadConfig({ ...ok, SHIPMENT_FAILURE_RATE: '2' }), /SHIPMENT_FAILURE_RATE/);
});

test('security settings: no trusted proxy by default, limits and proxies validated', () => {
  const base = { NODE_ENV: 'development', DATABASE_URL: 'postgres://x', ...strong() };
  const config = loadConfig(base);
  assert.deepEqual(config.security.trustedProxies, []);
  assert.deepEqual(config.security.login.perAddressAndEmail, { limit: 10, windowSeconds: 900 });
  assert.equal(config.dynamodb.tables.auth, 'auth');
  const proxied = loadConfig({ ...base, TRUSTED_PROXIES: '10.0.0.0/8, 127.0.0.1,::1,fd00::/8', LOGIN_LIMIT_PER_EMAIL: '3' });
  assert.deepEqual(proxied.security.trustedProxies, ['10.0.0.0/8', '127.0.0.1', '::1', 'fd00::/8']);
  assert.equal(proxied.security.login.perEmail.limit, 3);
  for (const bad of ['localhost', '10.0.0.0/33', '1.2.3.4/x', '::1/129', '1.2.3']) {
    assert.throws(() => loadConfig({ ...base, TRUSTED_PROXIES: bad }), /TRUSTED_PROXIES/, bad);
  }
  assert.throws(() => loadConfig({ ...base, REGISTER_LIMIT_PER_ADDRESS: '0' }), /REGISTER_LIMIT_PER_ADDRESS/);
});
