/**
 * Issue #9, the authentication, HTTP-edge and input part, against the real processes: refresh-token rotation,
 * reuse detection and logout; rate limits keyed on the socket address and the normalised email; a bounded
 * password-hash queue; credentials kept out of events, Kafka, dead letters and the read side (and accounts of
 * older releases migrated); ids of the wrong aggregate type; deep JSON; impossible dates; read-your-writes waits
 * only for readable streams and bounded per client; client disconnects and the request log.
 *
 * Three api processes: the shop (all processes), `strict` (api only, small limits, info logs, no proxy) and
 * `proxied` (api only, TRUSTED_PROXIES=127.0.0.1, one hash at a time with a queue of 3).
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID, scryptSync } from 'node:crypto';
import net from 'node:net';
import { after, test } from 'node:test';
import { GetItemCommand, PutItemCommand, QueryCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { categoryNameClaimStreamId } from '../../src/contexts/catalog/index.ts';
import { createDynamoClient } from '../../src/platform/eventstore/client.ts';
import { eventItem } from '../../src/platform/eventstore/dynamodb-items.ts';
import type { EventEnvelope } from '../../src/platform/shared/envelope.ts';
import { kafkaTopics } from '../../src/platform/shared/config.ts';
import { emailClaimStreamId } from '../../src/contexts/users/index.ts';
import { stackEnv, uniq } from '../support/env.ts';
import { eventually } from '../support/http.ts';
import { startShop, type ShopProcesses } from '../support/processes.ts';
import { decodeJwt, requestFrom, TEST_JWT_SECRET, type RawReply } from '../support/security.ts';
import { assertProblem, useShop, type ShopFixture } from '../support/shop.ts';

const { topic: TOPIC_EVENTS, dlqTopic: TOPIC_DLQ } = kafkaTopics();

let f: ShopFixture;
useShop((fixture) => (f = fixture), { env: { JWT_SECRET: TEST_JWT_SECRET, WAITS_PER_CLIENT: '4' } });

const STRICT = {
  JWT_SECRET: TEST_JWT_SECRET,
  LOG_LEVEL: 'info',
  LOGIN_LIMIT_PER_ADDRESS_AND_EMAIL: '3',
  LOGIN_LIMIT_PER_EMAIL: '5',
  LOGIN_LIMIT_PER_ADDRESS: '8',
  REGISTER_LIMIT_PER_ADDRESS: '3',
  REGISTER_LIMIT_PER_EMAIL: '2',
};
const PROXIED = {
  JWT_SECRET: TEST_JWT_SECRET,
  TRUSTED_PROXIES: '127.0.0.1',
  LOGIN_LIMIT_PER_ADDRESS_AND_EMAIL: '3',
  PASSWORD_HASH_CONCURRENCY: '1',
  PASSWORD_HASH_QUEUE: '3',
};

let strict: ShopProcesses | undefined;
let proxied: ShopProcesses | undefined;
let dynamo: DynamoDBClient | undefined;
let db: pg.Pool | undefined;
const strictShop = async () => (strict ??= await startShop({ kinds: ['api'], env: STRICT }));
const proxiedShop = async () => (proxied ??= await startShop({ kinds: ['api'], env: PROXIED }));
const dynamoClient = () => (dynamo ??= createDynamoClient({ endpoint: stackEnv().dynamodbEndpoint, region: 'ap-northeast-1' }));
const pool = () => (db ??= new pg.Pool({ connectionString: stackEnv().databaseUrl, max: 4 }));
after(async () => {
  await Promise.allSettled([strict?.stop(), proxied?.stop(), db?.end()]);
  dynamo?.destroy();
});

const PASSWORD = 'correct horse battery';
async function register(baseUrl: string, from = '127.0.0.1', email = `${uniq('s')}@example.com`): Promise<RawReply & { email: string }> {
  return {
    ...(await requestFrom(from, baseUrl, 'POST', '/auth/register', { body: { email, password: PASSWORD, name: '安全 太郎' } })),
    email,
  };
}
const loginFrom = (baseUrl: string, from: string, email: string, password: string, headers: Record<string, string> = {}) =>
  requestFrom(from, baseUrl, 'POST', '/auth/login', { body: { email, password }, headers });

function assertLimited(res: RawReply, what: string): void {
  assert.equal(res.status, 429, `${what}: ${res.status} ${res.text.slice(0, 300)}`);
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
  assert.equal(res.body.code, 'rate_limited');
  const retryAfter = Number(res.headers['retry-after']);
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1, `${what}: Retry-After ${res.headers['retry-after']}`);
}

/**
 * The fields of a log line, whether the logger writes `time level [name] msg key=value …` or one JSON object per
 * line (LOG_FORMAT=json, or a pino logger behind the same interface): values as strings.
 */
function fieldsOf(line: string): Record<string, string> {
  const json = line.indexOf('{');
  if (json >= 0) {
    try {
      const parsed = JSON.parse(line.slice(json)) as Record<string, unknown>;
      return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k === 'message' ? 'msg' : k, String(v)]));
    } catch {
      /* text format */
    }
  }
  const text = /^(?:\[[^\]]+\] )?\S+ +\w+ +\[[^\]]+\] (\S+)(.*)$/.exec(line);
  if (!text) return {};
  const fields: Record<string, string> = { msg: text[1]! };
  for (const m of text[2]!.matchAll(/(\w+)=("(?:[^"\\]|\\.)*"|\S+)/g))
    fields[m[1]!] = m[2]!.startsWith('"') ? (JSON.parse(m[2]!) as string) : m[2]!;
  return fields;
}

// --- refresh tokens --------------------------------------------------------------------------------------------

test('refresh tokens rotate on use; a spent one revokes its whole family; access tokens live until they expire', async () => {
  const { http } = f.a;
  const customer = await f.a.customer();
  const first = (await http.post('/auth/login', { email: customer.email, password: customer.password })).body;
  const second = await http.post('/auth/refresh', { refresh_token: first.refresh_token });
  assert.equal(second.status, 200, JSON.stringify(second.body));
  assert.deepEqual(Object.keys(second.body).sort(), ['access_token', 'expires_in', 'refresh_token', 'token_type']);
  assert.equal(second.body.token_type, 'Bearer');
  assert.equal(second.body.expires_in, 900);
  assert.notEqual(second.body.refresh_token, first.refresh_token, 'a new refresh token');
  assert.equal(decodeJwt(second.body.refresh_token).fam, decodeJwt(first.refresh_token).fam, 'of the same family');
  assert.equal((await http.get('/me', second.body.access_token)).body.user_id, customer.user_id);
  const third = await http.post('/auth/refresh', { refresh_token: second.body.refresh_token });
  assert.equal(third.status, 200);

  // The first token was spent two rotations ago: presenting it is reuse, and the family ends.
  const reused = await http.post('/auth/refresh', { refresh_token: first.refresh_token });
  assertProblem(reused, 401, 'reuse');
  assert.equal(reused.body.code, 'refresh_token_reused');
  const newest = await http.post('/auth/refresh', { refresh_token: third.body.refresh_token });
  assertProblem(newest, 401, 'the newest token of a revoked family');
  assert.equal(newest.body.code, 'session_revoked');
  assert.equal((await http.get('/me', third.body.access_token)).status, 200, 'access tokens are stateless until they expire');
  const session = await dynamoClient().send(
    new GetItemCommand({ TableName: 'auth', Key: { pk: { S: `session#${decodeJwt(first.refresh_token).fam}` } }, ConsistentRead: true }),
  );
  assert.equal(session.Item?.revoked_reason?.S, 'reuse');

  // Another login is another family, untouched by the first one's end.
  const again = (await http.post('/auth/login', { email: customer.email, password: customer.password })).body;
  assert.equal((await http.post('/auth/refresh', { refresh_token: again.refresh_token })).status, 200);
});

test('logout revokes the family, is idempotent, and works with a spent token too', async () => {
  const { http } = f.a;
  const customer = await f.a.customer();
  const login = async () => (await http.post('/auth/login', { email: customer.email, password: customer.password })).body;
  const session = await login();
  const out = await http.post('/auth/logout', { refresh_token: session.refresh_token });
  assert.equal(out.status, 204);
  assert.equal(out.body, undefined);
  assertProblem(await http.post('/auth/refresh', { refresh_token: session.refresh_token }), 401, 'refresh after logout');
  assert.equal((await http.post('/auth/logout', { refresh_token: session.refresh_token })).status, 204, 'again');

  const other = await login();
  const rotated = (await http.post('/auth/refresh', { refresh_token: other.refresh_token })).body;
  assert.equal((await http.post('/auth/logout', { refresh_token: other.refresh_token })).status, 204, 'a spent token of the family');
  assertProblem(await http.post('/auth/refresh', { refresh_token: rotated.refresh_token }), 401, 'its newest token');

  assertProblem(await http.post('/auth/logout', { refresh_token: 'garbage' }), 401, 'not our token');
  assertProblem(await http.post('/auth/logout', { refresh_token: (await login()).access_token }), 401, 'an access token');
  assertProblem(await http.post('/auth/logout', {}), 400, 'no token');
});

test('two concurrent refreshes with one token: exactly one wins, the other is reuse and ends the session', async () => {
  const { http } = f.a;
  const customer = await f.a.customer();
  for (let round = 0; round < 3; round++) {
    const session = (await http.post('/auth/login', { email: customer.email, password: customer.password })).body;
    const both = await Promise.all([0, 1].map(() => http.post('/auth/refresh', { refresh_token: session.refresh_token })));
    assert.deepEqual(both.map((r) => r.status).sort(), [200, 401], JSON.stringify(both.map((r) => r.body)));
    const winner = both.find((r) => r.status === 200)!;
    const loser = both.find((r) => r.status === 401)!;
    assert.equal(loser.body.code, 'refresh_token_reused');
    assertProblem(
      await http.post('/auth/refresh', { refresh_token: winner.body.refresh_token }),
      401,
      "the winner's token of the revoked family",
    );
  }
});

// --- rate limits -----------------------------------------------------------------------------------------------

test('login limits: keyed on the socket address (X-Forwarded-For ignored), per email across addresses; an attacker cannot lock the user out from elsewhere', async () => {
  const shop = await strictShop();
  const victim = await register(shop.baseUrl, '127.0.0.50');
  assert.equal(victim.status, 201, victim.text);
  const attacker = '127.0.0.51';
  for (let i = 0; i < 3; i++) {
    const res = await loginFrom(shop.baseUrl, attacker, victim.email, `wrong ${i}`, { 'x-forwarded-for': `198.51.100.${i}` });
    assert.equal(res.status, 401, res.text);
  }
  // Rotating X-Forwarded-For buys nothing: without a trusted proxy the header is never read.
  for (let i = 3; i < 6; i++)
    assertLimited(
      await loginFrom(shop.baseUrl, attacker, victim.email, `wrong ${i}`, { 'x-forwarded-for': `198.51.100.${i}` }),
      `attempt ${i + 1}`,
    );
  assertLimited(await loginFrom(shop.baseUrl, attacker, `  ${victim.email.toUpperCase()} `, 'wrong'), 'the same email written differently');

  // The user, from another address, is not locked out, even with the right password after the attacker's tries.
  const user = '127.0.0.52';
  assert.equal((await loginFrom(shop.baseUrl, user, victim.email, PASSWORD)).status, 200);
  assert.equal((await loginFrom(shop.baseUrl, user, victim.email, PASSWORD)).status, 200, 'a success costs nothing');

  // Guesses from a second address still count for the email (5): 3 above + 2 here, then it is closed for everyone.
  const second = '127.0.0.53';
  assert.equal((await loginFrom(shop.baseUrl, second, victim.email, 'wrong a')).status, 401);
  assert.equal((await loginFrom(shop.baseUrl, second, victim.email, 'wrong b')).status, 401);
  assertLimited(await loginFrom(shop.baseUrl, second, victim.email, 'wrong c'), 'the email limit across addresses');
  // An unknown email is limited exactly like a known one (no oracle).
  const ghost = `${uniq('ghost')}@example.com`;
  for (let i = 0; i < 3; i++) assert.equal((await loginFrom(shop.baseUrl, '127.0.0.54', ghost, 'x')).status, 401);
  assertLimited(await loginFrom(shop.baseUrl, '127.0.0.54', ghost, 'x'), 'an unknown email');
});

test('login limits per address: spraying one password over many accounts', async () => {
  const shop = await strictShop();
  const sprayer = '127.0.0.60';
  for (let i = 0; i < 8; i++)
    assert.equal((await loginFrom(shop.baseUrl, sprayer, `${uniq(`spray${i}`)}@example.com`, 'Password1')).status, 401);
  assertLimited(await loginFrom(shop.baseUrl, sprayer, `${uniq('spray')}@example.com`, 'Password1'), 'the ninth account from one address');
  assert.equal(
    (await loginFrom(shop.baseUrl, '127.0.0.61', `${uniq('other')}@example.com`, 'Password1')).status,
    401,
    'another address is not affected',
  );
});

test('registration limits per address and per email, with Retry-After; an invalid registration costs no attempt', async () => {
  const shop = await strictShop();
  const from = '127.0.0.70';
  for (let i = 0; i < 6; i++) {
    const bad = await requestFrom(from, shop.baseUrl, 'POST', '/auth/register', {
      body: { email: 'not-an-email', password: PASSWORD, name: 'x' },
    });
    assert.equal(bad.status, 400, bad.text);
  }
  for (let i = 0; i < 3; i++) assert.equal((await register(shop.baseUrl, from)).status, 201);
  assertLimited(await register(shop.baseUrl, from), 'the fourth registration from one address');

  const email = `${uniq('same')}@example.com`;
  assert.equal((await register(shop.baseUrl, '127.0.0.71', email)).status, 201);
  assert.equal((await register(shop.baseUrl, '127.0.0.72', email)).status, 409, 'taken');
  assertLimited(await register(shop.baseUrl, '127.0.0.73', email.toUpperCase()), 'probing one email from a third address');
});

test('behind a trusted proxy the rightmost untrusted X-Forwarded-For hop is the client, whatever the client wrote', async () => {
  const shop = await proxiedShop();
  const victim = await register(shop.baseUrl);
  assert.equal(victim.status, 201, victim.text);
  const via = (xff: string, password = 'wrong') => loginFrom(shop.baseUrl, '127.0.0.1', victim.email, password, { 'x-forwarded-for': xff });
  for (let i = 0; i < 3; i++) assert.equal((await via('203.0.113.5')).status, 401);
  assertLimited(await via('203.0.113.5'), 'the client behind the proxy');
  assertLimited(await via('198.51.100.77, 203.0.113.5'), 'a spoofed hop left of the real one');
  assert.equal((await via('203.0.113.6', PASSWORD)).status, 200, 'another client behind the same proxy');
  // A peer that is not a trusted proxy cannot forward: 127.0.0.2 is the client, not the header's address.
  for (let i = 0; i < 3; i++)
    assert.equal((await loginFrom(shop.baseUrl, '127.0.0.2', victim.email, 'wrong', { 'x-forwarded-for': '203.0.113.9' })).status, 401);
  assertLimited(
    await loginFrom(shop.baseUrl, '127.0.0.2', victim.email, 'wrong', { 'x-forwarded-for': '203.0.113.10' }),
    'an untrusted peer',
  );
});

test('a flood of logins is refused with 503 + Retry-After once the hash queue is full, and the api keeps answering', async () => {
  const shop = await proxiedShop();
  // 30 at once from 30 addresses behind the proxy (no rate limit in the way): 1 hashes, 3 wait, the rest are refused.
  const flood = Promise.all(
    Array.from({ length: 30 }, (_, i) =>
      loginFrom(shop.baseUrl, '127.0.0.1', `${uniq('flood')}@example.com`, 'password', { 'x-forwarded-for': `192.0.2.${i + 1}` }),
    ),
  );
  const during = await Promise.all([
    requestFrom('127.0.0.1', shop.baseUrl, 'GET', '/healthz'),
    requestFrom('127.0.0.1', shop.baseUrl, 'GET', '/categories'),
  ]);
  const answers = await flood;
  assert.deepEqual(
    during.map((r) => r.status),
    [200, 200],
    'the api answered other requests during the flood',
  );
  const statuses = answers.map((r) => r.status);
  assert.ok(
    statuses.every((s) => s === 401 || s === 503),
    JSON.stringify(statuses),
  );
  const busy = answers.filter((r) => r.status === 503);
  assert.ok(busy.length >= 20, `only ${busy.length} of 30 refused: the queue is not bounded`);
  assert.ok(statuses.filter((s) => s === 401).length >= 1, 'some were checked');
  for (const r of busy) {
    assert.equal(r.body.code, 'password_checks_busy');
    assert.equal(r.headers['retry-after'], '1');
  }
});

// --- credentials -----------------------------------------------------------------------------------------------

test(
  'credentials are nowhere but the auth table: not on Kafka, not in dead letters, the events table, the event log or any read table',
  { timeout: 180_000 },
  async (t) => {
    const { http } = f.a;
    const email = `${uniq('cred')}@example.com`;
    const password = `unique-${randomBytes(8).toString('hex')}`;
    const registered = await http.post('/auth/register', { email, password, name: '資格 花子' });
    assert.equal(registered.status, 201);
    const userId: string = registered.body.user_id;
    assert.equal((await http.post('/auth/login', { email, password })).status, 200);

    const credential = await dynamoClient().send(
      new GetItemCommand({ TableName: 'auth', Key: { pk: { S: `credential#${userId}` } }, ConsistentRead: true }),
    );
    const hash = credential.Item?.password_hash?.S ?? '';
    assert.match(hash, /^scrypt\$131072\$8\$1\$/, 'OWASP parameters');
    const secrets = [hash, hash.split('$').at(-1)!, password, 'password_hash'];
    const leaks = (where: string, text: string) => secrets.filter((s) => text.includes(s)).map((s) => `${where} holds ${s.slice(0, 20)}…`);

    const stored = await dynamoClient().send(
      new QueryCommand({
        TableName: 'events',
        KeyConditionExpression: 'aggregate_id = :id',
        ExpressionAttributeValues: { ':id': { S: userId } },
        ConsistentRead: true,
      }),
    );
    const claim = await dynamoClient().send(
      new QueryCommand({
        TableName: 'events',
        KeyConditionExpression: 'aggregate_id = :id',
        ExpressionAttributeValues: { ':id': { S: emailClaimStreamId(email) } },
        ConsistentRead: true,
      }),
    );
    assert.equal(stored.Items?.length, 1);
    assert.equal(claim.Items?.length, 1, 'the claim stream is keyed by the hashed email');
    const problems = [
      ...leaks('the events table', JSON.stringify(stored.Items)),
      ...leaks('the claim stream', JSON.stringify(claim.Items)),
    ];

    // Kafka: every record on the topic from the beginning, until this user's two events have come by.
    const kafka = new Kafka({ brokers: stackEnv().kafkaBrokers, clientId: uniq('cred-test'), logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const consumer = kafka.consumer({ groupId: uniq('cred-reader'), sessionTimeout: 10_000, maxWaitTimeInMs: 200 });
    try {
      const topics = await admin.listTopics();
      const ends = new Map<string, number>();
      if (topics.includes(TOPIC_DLQ))
        for (const p of await admin.fetchTopicOffsets(TOPIC_DLQ)) ends.set(`${TOPIC_DLQ}:${p.partition}`, Number(p.high));
      let ours = 0;
      let records = 0;
      const dlqSeen = new Map<string, number>();
      await consumer.connect();
      await consumer.subscribe({ topics: [TOPIC_EVENTS, ...(topics.includes(TOPIC_DLQ) ? [TOPIC_DLQ] : [])], fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ topic, partition, message }) => {
          records++;
          const value = message.value?.toString('utf8') ?? '';
          problems.push(...leaks(`${topic} offset ${message.offset}`, value + JSON.stringify(message.headers ?? {})));
          if (topic === TOPIC_DLQ) dlqSeen.set(`${topic}:${partition}`, Number(message.offset) + 1);
          else if (value.includes(userId) || value.includes(emailClaimStreamId(email))) ours++;
        },
      });
      await eventually(async () => ours >= 2 && [...ends].every(([k, end]) => (dlqSeen.get(k) ?? 0) >= end || end === 0), {
        timeoutMs: 60_000,
        what: "this user's events on the topic and the whole DLQ",
      });
      t.diagnostic(
        `read ${records} Kafka records (${TOPIC_EVENTS} from the start, ${TOPIC_DLQ}: ${[...ends.values()].reduce((a, b) => a + b, 0)})`,
      );
    } finally {
      // A client leaving a group mid-rebalance can wait for the rebalance; the test's answer is in by now.
      const bounded = (p: Promise<unknown>) => Promise.race([p.catch(() => {}), new Promise((r) => setTimeout(r, 10_000).unref())]);
      await bounded(consumer.disconnect());
      await bounded(admin.disconnect());
    }

    // The read side: every table of the schema, every row as text; and what the api shows admins.
    await eventually(async () => (await pool().query('SELECT 1 FROM read_users WHERE user_id = $1', [userId])).rowCount === 1, {
      what: 'the user in read_users',
    });
    await eventually(async () => (await pool().query('SELECT 1 FROM read_event_log WHERE aggregate_id = $1', [userId])).rowCount === 1, {
      what: 'the event in read_event_log',
    });
    const tables = (
      await pool().query<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables WHERE table_schema IN ('public', 'read_model') AND table_type = 'BASE TABLE'`,
      )
    ).rows.map((r) => r.table_name);
    assert.ok(tables.includes('read_users') && tables.includes('read_event_log'));
    for (const table of tables) {
      const { rows } = await pool().query<{ n: number }>(
        `SELECT count(*)::int AS n FROM "${table}" t WHERE t::text LIKE '%' || $1 || '%' OR t::text LIKE '%' || $2 || '%'`,
        [hash.split('$').at(-1), password],
      );
      if (rows[0]!.n > 0) problems.push(`read table ${table} holds the hash or the password`);
    }
    problems.push(...leaks('GET /events/<user>', JSON.stringify((await http.get(`/events/${userId}`, f.admin)).body)));
    problems.push(...leaks('GET /events', JSON.stringify((await http.get('/events?limit=500', f.admin)).body)));
    assert.deepEqual(problems, []);
  },
);

test('an account of an older release (hash inside UserRegistered, claim named by the address) logs in; its hash moves out and is strengthened', async () => {
  const { http } = f.a;
  const email = `${uniq('legacy')}@example.com`;
  const userId = randomUUID();
  const salt = randomBytes(16);
  const oldHash = [
    'scrypt',
    16384,
    8,
    1,
    salt.toString('base64url'),
    scryptSync(PASSWORD.normalize('NFKC'), salt, 32, { N: 16384, r: 8, p: 1 }).toString('base64url'),
  ].join('$');
  const at = '2025-06-01T00:00:00.000Z';
  const legacy = (
    aggregate_id: string,
    aggregate_type: EventEnvelope['aggregate_type'],
    event_type: string,
    data: Record<string, unknown>,
  ): EventEnvelope => ({
    event_id: randomUUID(),
    aggregate_id,
    aggregate_type,
    event_type,
    version: 1,
    data,
    metadata: { correlation_id: 'legacy' },
    created_at: at,
    schema_version: 1,
  });
  // Exactly as that release stored them, already published (no outbox attributes).
  for (const e of [
    legacy(`user-email:${email}`, 'EmailClaim', 'EmailClaimed', { email, user_id: userId }),
    legacy(userId, 'User', 'UserRegistered', {
      user_id: userId,
      email,
      name: '旧 太郎',
      role: 'customer',
      password_hash: oldHash,
      registered_at: at,
    }),
  ]) {
    const { outbox_shard: _s, outbox_at: _a, ...item } = eventItem(e, '0');
    await dynamoClient().send(new PutItemCommand({ TableName: 'events', Item: item }));
  }
  assertProblem(await http.post('/auth/login', { email, password: 'wrong password' }), 401, 'a wrong password');
  const login = await http.post('/auth/login', { email, password: PASSWORD });
  assert.equal(login.status, 200, JSON.stringify(login.body));
  assert.equal(login.body.user.user_id, userId);

  const credential = await dynamoClient().send(
    new GetItemCommand({ TableName: 'auth', Key: { pk: { S: `credential#${userId}` } }, ConsistentRead: true }),
  );
  assert.match(credential.Item?.password_hash?.S ?? '', /^scrypt\$131072\$8\$1\$/, 'rehashed at the current parameters');
  const event = await dynamoClient().send(
    new GetItemCommand({ TableName: 'events', Key: { aggregate_id: { S: userId }, version: { N: '1' } }, ConsistentRead: true }),
  );
  assert.ok(!(event.Item?.data?.S ?? '').includes('password_hash'), 'the hash left the event');
  assert.deepEqual(JSON.parse(event.Item?.data?.S ?? '{}'), {
    user_id: userId,
    email,
    name: '旧 太郎',
    role: 'customer',
    registered_at: at,
  });
  assert.ok(!JSON.stringify((await http.get(`/events/${userId}`, f.admin)).body).includes('scrypt'));
  assert.equal((await http.post('/auth/login', { email, password: PASSWORD })).status, 200, 'and again, from the credential item');
  const again = await http.post('/auth/register', { email: email.toUpperCase(), password: PASSWORD, name: '二重' });
  assertProblem(again, 409, 'the legacy claim still holds the email');
  assert.equal(again.body.code, 'email_taken');
});

// --- input at the edge -----------------------------------------------------------------------------------------

test('ids of another aggregate type are 404 or 400, never 5xx, and change nothing', async () => {
  const { http } = f.a;
  const me = await f.a.customer();
  const category = (await http.post('/categories', { name: `型 ${uniq()}` }, f.admin)).body;
  const product = await f.a.product({ stock: 10 });
  const order = (await f.a.order(me, [[product.id, 1]])).order_id as string;
  const claim = emailClaimStreamId('admin@example.com');
  const categoryClaim = categoryNameClaimStreamId(category.name);
  const streams = [product.id, `inventory-${product.id}`, order, `cart-${me.user_id}`, me.user_id, category.id, claim, categoryClaim];
  const versions = async () => Promise.all(streams.map(async (s) => (await f.a.stream(s)).version));
  const before = await versions();
  const wrong = [
    claim,
    categoryClaim,
    'user-email:admin@example.com',
    order,
    category.id,
    me.user_id,
    `cart-${me.user_id}`,
    `inventory-${product.id}`,
  ];
  const cases: Array<[string, string, string, unknown?]> = [];
  for (const id of wrong) {
    if (id !== product.id) {
      cases.push(['DELETE', `/products/${id}`, f.admin]);
      cases.push(['PUT', `/products/${id}`, f.admin, { price: 5 }]);
      cases.push(['GET', `/products/${id}`, '']);
      cases.push(['POST', `/inventory/${id}/add_stock`, f.admin, { quantity: 1 }]);
      cases.push(['GET', `/inventory/${id}`, f.admin]);
      cases.push(['POST', '/cart/items', me.token, { product_id: id, quantity: 1 }]);
      cases.push(['DELETE', `/cart/items/${id}`, me.token]);
    }
    if (id !== category.id) {
      cases.push(['POST', '/products', f.admin, { name: 'x', price: 1, stock: 1, category: id }]);
      cases.push(['PUT', `/products/${product.id}`, f.admin, { category: id }]);
    }
    if (id !== order) {
      cases.push(['GET', `/orders/${id}`, me.token]);
      cases.push(['POST', `/orders/${id}/pay`, me.token]);
      cases.push(['POST', `/orders/${id}/cancel`, me.token, { reason: 'x' }]);
      cases.push(['POST', `/orders/${id}/ship`, f.admin, { tracking_number: 'TRK-1' }]);
      cases.push(['POST', `/orders/${id}/deliver`, f.admin]);
    }
    // The customer's own streams are theirs to read; everything else is not found.
    if (![`cart-${me.user_id}`, me.user_id, order].includes(id))
      cases.push(['GET', `/events/${id}`, me.token], ['GET', `/events/${id}/state`, me.token]);
  }
  const failures: string[] = [];
  for (const [method, path, token, body] of cases) {
    const res = await http.call(method, path, { ...(token ? { token } : {}), ...(body !== undefined ? { body } : {}) });
    if (![400, 404].includes(res.status))
      failures.push(`${method} ${path} ${JSON.stringify(body ?? '')} → ${res.status} ${JSON.stringify(res.body)?.slice(0, 160)}`);
  }
  assert.deepEqual(failures, []);
  assert.deepEqual(await versions(), before, 'nothing was appended');
  assert.equal((await http.get(`/events/${claim}`, f.admin)).status, 200, 'the claim stream itself is readable by an admin');
});

test('deeply nested JSON is a 400 on every route that reads a body; brackets inside strings are only text', async () => {
  const { http } = f.a;
  const me = await f.a.customer();
  const product = await f.a.product({ stock: 10 });
  const order = (await f.a.order(me, [[product.id, 1]])).order_id;
  const deep = ['['.repeat(150) + ']'.repeat(150), '{"a":'.repeat(150) + '1' + '}'.repeat(150)];
  const routes: Array<[string, string, string | undefined]> = [
    ['POST', '/auth/register', undefined],
    ['POST', '/auth/login', undefined],
    ['POST', '/auth/refresh', undefined],
    ['POST', '/auth/logout', undefined],
    ['POST', '/categories', f.admin],
    ['POST', '/products', f.admin],
    ['PUT', `/products/${product.id}`, f.admin],
    ['DELETE', `/products/${product.id}`, f.admin],
    ['POST', `/inventory/${product.id}/add_stock`, f.admin],
    ['POST', '/cart/items', me.token],
    ['DELETE', `/cart/items/${product.id}`, me.token],
    ['DELETE', '/cart', me.token],
    ['POST', '/orders', me.token],
    ['POST', `/orders/${order}/pay`, me.token],
    ['POST', `/orders/${order}/cancel`, me.token],
    ['POST', `/orders/${order}/ship`, f.admin],
    ['POST', `/orders/${order}/deliver`, f.admin],
  ];
  for (const [method, path, token] of routes) {
    for (const raw of deep) {
      const res = await http.call(method, path, { raw, ...(token ? { token } : {}) });
      assertProblem(res, 400, `${method} ${path} with ${raw.slice(0, 8)}…`);
    }
  }
  assert.equal((await http.get(`/orders/${order}?min_version=1`, me.token)).body.status, 'pending', 'the order was not touched');
  const created = await http.post('/products', { name: '括弧', description: '['.repeat(150), price: 100, stock: 0 }, f.admin);
  assert.equal(created.status, 201, JSON.stringify(created.body));
});

test('cursors and times naming impossible dates are 400, not database errors', async () => {
  const { http } = f.a;
  const me = await f.a.customer();
  const order = (await f.a.order(me, [[(await f.a.product({ stock: 5 })).id, 1]])).order_id;
  const cursor = (...values: unknown[]) => Buffer.from(JSON.stringify(values)).toString('base64url');
  const uuid = '00000000-0000-4000-8000-000000000000';
  const cases: Array<[string, string | undefined]> = [];
  for (const day of [
    '0000-01-01T00:00:00Z',
    '2024-02-31T00:00:00Z',
    '2023-02-29T12:00:00.5Z',
    '2024-13-01T00:00:00Z',
    '2024-06-31T23:59:59.999999Z',
  ]) {
    cases.push([`/products?cursor=${cursor('products', day, 'x')}`, undefined]);
    cases.push([`/orders?cursor=${cursor('orders', day, 'x')}`, me.token]);
    cases.push([`/orders/status/pending?cursor=${cursor('orders', day, 'x')}`, me.token]);
    cases.push([`/events?before=${cursor('events', day, uuid)}`, f.admin]);
    cases.push([`/events/${order}/state?at=${encodeURIComponent(day)}`, me.token]);
  }
  for (const [path, token] of cases) assertProblem(await http.get(path, token), 400, path);
  assert.equal(
    (await http.get(`/events/${order}/state?at=${encodeURIComponent('2024-02-29T00:00:00Z')}`, me.token)).status,
    200,
    'a real leap day',
  );
});

// --- read-your-writes waits ------------------------------------------------------------------------------------

test('waits only for streams the caller may read: no oracle for emails, carts or orders', async () => {
  const { http } = f.a;
  const me = await f.a.customer();
  const product = await f.a.product({ stock: 5 });
  const order = (await f.a.order(me, [[product.id, 1]])).order_id;
  const refused = async (waitFor: string, token?: string) => {
    const res = await http.get(`/products?wait_for=${encodeURIComponent(waitFor)}`, token);
    assertProblem(res, 400, waitFor);
    return res.body.detail;
  };
  // Registered or not, cart or order: one and the same answer, immediately.
  const details = new Set([
    await refused(`${emailClaimStreamId('admin@example.com')}:1`),
    await refused(`${emailClaimStreamId(`${uniq('nobody')}@example.com`)}:1`),
    await refused('user-email:admin@example.com:1'),
    await refused(`cart-${me.user_id}:1`),
    await refused(`${order}:1`),
    await refused(`${randomUUID()}:1`),
    await refused(`inventory-${product.id}:1`),
    await refused(`${order}:1`, (await f.a.customer()).token),
  ]);
  assert.equal(details.size, 1, [...details].join(' | '));
  assert.equal((await http.get(`/products?wait_for=${product.id}:1`)).status, 200, 'a product: anyone');
  assert.equal((await http.get(`/products?wait_for=${order}:1`, me.token)).status, 200, 'their own order: its owner');
  assert.equal((await http.get(`/products?wait_for=${order}:1`, f.admin)).status, 200, 'anything: an admin');

  const started = Date.now();
  assertProblem(await http.get(`/products/${order}?min_version=99`), 404, 'an order as a product');
  assertProblem(await http.get(`/orders/${order}?min_version=99`, (await f.a.customer()).token), 404, "someone else's order");
  assert.ok(Date.now() - started < 2500, `answered without waiting (${Date.now() - started} ms for both)`);
});

test('one client cannot exhaust the wait pool: beyond its few waits it is answered at once, marked behind', async () => {
  const { http } = f.a;
  const me = await f.a.customer();
  const product = await f.a.product({ stock: 50 });
  await f.a.addToCart(me.token, product.id, 1);
  const timed = async () => {
    const t0 = Date.now();
    const res = await http.get('/cart?min_version=999', me.token);
    return { res, ms: Date.now() - t0 };
  };
  const answers = await Promise.all(Array.from({ length: 20 }, timed));
  assert.ok(answers.every((a) => a.res.status === 200 && a.res.headers.get('x-read-model-behind') === 'true'));
  const quick = answers.filter((a) => a.ms < 2500).length;
  const waited = answers.filter((a) => a.ms >= 2900).length;
  assert.ok(quick >= 16, `${quick} of 20 answered without waiting: ${answers.map((a) => a.ms).join(',')}`);
  assert.ok(waited <= 4 && waited >= 1, `${waited} waited`);
  // Meanwhile another client's read-your-writes is unaffected.
  const other = await f.a.customer();
  const added = await f.a.addToCart(other.token, product.id, 2);
  const seen = await http.get(`/cart?min_version=${added.version}`, other.token);
  assert.equal(seen.headers.get('x-read-model-behind'), null);
  assert.equal(seen.body.item_count, 2);
});

// --- the HTTP edge ---------------------------------------------------------------------------------------------

test('a client that hangs up mid-body is logged as such, not as an unhandled error; every request gets one log line without secrets', async () => {
  const shop = await strictShop();
  const port = Number(new URL(shop.baseUrl).port);
  for (const path of ['/auth/register', '/auth/login', '/auth/refresh']) {
    await new Promise<void>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"email":`);
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 200);
      });
      socket.on('error', reject);
    });
  }
  const email = `${uniq('log')}@example.com`;
  const password = `log-secret-${randomBytes(6).toString('hex')}`;
  assert.equal(
    (await requestFrom('127.0.0.90', shop.baseUrl, 'POST', '/auth/register', { body: { email, password, name: 'ログ' } })).status,
    201,
  );
  const session = (
    await requestFrom('127.0.0.90', shop.baseUrl, 'POST', '/auth/login', {
      body: { email, password },
      headers: { 'x-request-id': 'log-test-1' },
    })
  ).body;
  const me = await requestFrom('127.0.0.90', shop.baseUrl, 'GET', '/me?secret=not-logged', {
    headers: { authorization: `Bearer ${session.access_token}`, 'x-request-id': 'log-test-2' },
  });
  assert.equal(me.status, 200);
  await requestFrom('127.0.0.90', shop.baseUrl, 'POST', '/auth/refresh', { body: { refresh_token: session.refresh_token } });

  const logs = await eventually(
    async () => (shop.logs().includes('log-test-2') && shop.logs().match(/client disconnected/g)?.length === 3 ? shop.logs() : undefined),
    { what: 'the log lines' },
  );
  assert.ok(!/unhandled error/.test(logs), 'a disconnect was logged as an unhandled error');
  assert.ok(!/ECONNRESET|at .*\.ts:\d+/.test(logs), 'a stack trace was logged');
  const line = (requestId: string) =>
    logs
      .split('\n')
      .map(fieldsOf)
      .find((l) => l.request_id === requestId && l.msg === 'request');
  const loginLine = line('log-test-1');
  assert.ok(loginLine, 'the login has a request log line');
  assert.deepEqual([loginLine.method, loginLine.path, loginLine.status], ['POST', '/auth/login', '200']);
  assert.match(loginLine.duration_ms ?? '', /^\d+(\.\d+)?$/);
  const meLine = line('log-test-2');
  assert.deepEqual([meLine?.method, meLine?.path, meLine?.status], ['GET', '/me', '200'], 'the path without its query string');
  assert.ok(meLine?.user_id, 'the authenticated user is named');
  for (const secret of [password, session.access_token, session.refresh_token, 'not-logged', 'scrypt$'])
    assert.ok(!logs.includes(secret), `the logs hold ${secret.slice(0, 12)}…`);
});
