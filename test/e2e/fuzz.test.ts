/**
 * Issue #9: a seeded, reproducible fuzz of the real api. At least 5,000 generated bad requests over every route
 * the api registers (wrong-type, malformed and hostile ids; forged cursors and impossible dates; bad query
 * values and headers; bodies that are garbage, deep, huge, of the wrong type or one bad field away from valid;
 * forged tokens), a few at a time. Then: no 5xx, no request left without an answer, and every event the fuzz
 * managed to append (found by its correlation id, the request id it sent) passes an independent validator of
 * the event schemas and reached the read side.
 *
 *   FUZZ_SEED=123 FUZZ_REQUESTS=20000 npx tsx scripts/with-stack.ts -- node --import tsx --test test/e2e/fuzz.test.ts
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { z } from 'zod';
import { categoryNameClaimStreamId } from '../../src/contexts/catalog/index.ts';
import { createDynamoClient } from '../../src/platform/eventstore/client.ts';
import { createDynamoEventStore } from '../../src/platform/eventstore/dynamodb.ts';
import { DEFAULT_TABLES } from '../../src/platform/eventstore/dynamodb-items.ts';
import type { EventEnvelope } from '../../src/platform/shared/envelope.ts';
import { instantMs } from '../../src/platform/shared/validate.ts';
import { emailClaimStreamId } from '../../src/contexts/users/index.ts';
import { stackEnv, uniq } from '../support/env.ts';
import { eventually } from '../support/http.ts';
import { forgeries, registeredRoutes, TEST_JWT_SECRET } from '../support/security.ts';
import { useShop, type ShopFixture } from '../support/shop.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 20_261_121);
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 5_000);
const CONCURRENCY = 8;
/** A request without an answer after this long is a hang (the longest legitimate wait is 3 s). */
const HANG_MS = 20_000;

let f: ShopFixture;
// Per-address login and registration limits low enough that the fuzz's valid-looking attempts mostly meet the
// limiter (429) rather than costing a 300 ms scrypt each: the run stays well under a minute.
useShop((fixture) => (f = fixture), {
  env: { JWT_SECRET: TEST_JWT_SECRET, LOGIN_LIMIT_PER_ADDRESS: '40', REGISTER_LIMIT_PER_ADDRESS: '15' },
});

/** mulberry32: small, fast, and the same sequence everywhere for one seed. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: <T>(xs: readonly T[]): T => xs[int(xs.length)]!, chance: (p: number) => next() < p };
}
type Rng = ReturnType<typeof prng>;

const cursor = (...values: unknown[]) => Buffer.from(JSON.stringify(values)).toString('base64url');
const hexUuid = (r: Rng) => {
  const hex = Array.from({ length: 32 }, () => r.int(16).toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20)}`;
};

interface World {
  product: string;
  order: string;
  category: { id: string; name: string };
  me: { user_id: string; token: string; email: string; password: string; refresh: string };
  tokens: string[];
}

function ids(w: World, r: Rng): string[] {
  return [
    w.product,
    w.order,
    w.category.id,
    w.me.user_id,
    `cart-${w.me.user_id}`,
    `inventory-${w.product}`,
    `shipment-${w.order}`,
    emailClaimStreamId('admin@example.com'),
    categoryNameClaimStreamId(w.category.name),
    'user-email:admin@example.com',
    `category-name:${w.category.name}`,
    hexUuid(r),
    w.product.toUpperCase(),
    `${w.product}x`,
    'a'.repeat(129),
    'a'.repeat(300),
    '..',
    '../../../../etc/passwd',
    '%2e%2e%2f%2e%2e%2f',
    '%00',
    'x%00y',
    '%E3%81%82',
    'a%20b',
    '%F0%9F%98%80',
    '-1',
    '0',
    'null',
    'undefined',
    '{{7*7}}',
    '%22',
    "'",
    '<script>',
    '%0d%0aX-Injected:%201',
    'admin@example.com',
    '__proto__',
    'constructor',
    'healthcheck',
  ];
}

function badDates(): string[] {
  return [
    '0000-01-01T00:00:00Z',
    '2024-02-31T00:00:00Z',
    '2023-02-29T00:00:00Z',
    '2024-13-01T00:00:00Z',
    '2024-01-01T24:00:00Z',
    '+275760-09-13T00:00:00Z',
    '9999-12-31T23:59:59.999999999Z',
    'yesterday',
    '',
  ];
}

function queryValue(w: World, r: Rng): string {
  const kinds = [
    () => r.pick(['', '-1', '0', '1', '2', '1.5', '1e3', 'abc', '99999999999999999999', 'true', '[]', '{}', ' 1', '0x10']),
    () => r.pick(ids(w, r)),
    () => `${r.pick(ids(w, r))}:${r.pick(['1', '0', '-1', '999', 'x', '1.5', ''])}`,
    () =>
      cursor(
        r.pick(['products', 'orders', 'events', 'stream', 'inventory', 'x']),
        r.pick([...badDates(), '2024-01-01T00:00:00Z']),
        r.pick(['x', hexUuid(r), '\u0000', 5, null, [], {}]),
      ),
    () => cursor(r.pick(['stream', 'inventory']), r.pick([2 ** 40, -1, 1.5, '1', 'x\u0000', null])),
    () => r.pick(badDates()),
    () => r.pick(['garbage', 'x'.repeat(700), '%00', '%ff', '%E3%81', 'e30', 'W10', Buffer.from('[]').toString('base64url')]),
    () => r.pick(['pending', 'paid', 'shipped', 'bogus', 'PENDING', '%00']),
    () => r.pick(['Tシャツ', '%', '_', "'; DROP TABLE read_products; --", '\\', '*', '(', 'a b c', '%27%20OR%201=1--']),
  ];
  return r.pick(kinds)();
}

const QUERY_NAMES = [
  'limit',
  'cursor',
  'q',
  'category',
  'status',
  'min_version',
  'wait_for',
  'before',
  'at',
  'version',
  'days',
  'saga_id',
  'mine',
  'x',
];

/** A value that breaks a field: wrong type, out of range, hostile text. JSON.stringify-able (raw ones separately). */
function badValue(w: World, r: Rng): unknown {
  return r.pick<() => unknown>([
    () => r.pick([null, true, false, [], {}, [1], { a: 1 }]),
    () => r.pick([0, -1, 1.5, 1e20, 2 ** 53 + 2, -0, 100, 10_000_001, 1_000_001, Number.MAX_SAFE_INTEGER]),
    () =>
      r.pick([
        '',
        ' ',
        'a\nb',
        'a\u0000b',
        'a\ud800b',
        '\udc00',
        'x'.repeat(r.pick([51, 101, 201, 501, 2001, 10_001])),
        '寿'.repeat(101),
        '\u202e',
        'TRK 1',
        '追跡番号',
        '1',
        '-5',
      ]),
    () => r.pick(ids(w, r)),
    () => r.pick(badDates()),
  ])();
}

function randomJson(r: Rng, depth: number): unknown {
  if (depth <= 0 || r.chance(0.3)) return r.pick<unknown>([null, true, 1, -1, 1.5, '', 'x', '\u0000', 'a\ud800', 1e300]);
  if (r.chance(0.5)) return Array.from({ length: r.int(4) }, () => randomJson(r, depth - 1));
  return Object.fromEntries(
    Array.from({ length: r.int(4) }, () => [
      r.pick(['a', 'name', 'price', 'email', '__proto__', 'constructor', 'quantity', '']),
      randomJson(r, depth - 1),
    ]),
  );
}

/** A valid body per route: mutated one field at a time, so validation (not the shape) is what must refuse it. */
function template(route: string, w: World): Record<string, unknown> {
  switch (route) {
    case 'POST /auth/register':
      return { email: `${uniq('fz')}@example.com`, password: 'password 123', name: 'Fuzz' };
    case 'POST /auth/login':
      return { email: w.me.email, password: 'wrong password' };
    case 'POST /auth/refresh':
    case 'POST /auth/logout':
      return { refresh_token: w.me.refresh };
    case 'POST /categories':
      return { name: `fz ${uniq()}` };
    case 'POST /products':
      return { name: 'fz', description: 'd', price: 100, stock: 1, category: w.category.id };
    case 'PUT /products/:id':
      return { name: 'fz', price: 100 };
    case 'POST /inventory/:product_id/add_stock':
      return { quantity: 1 };
    case 'POST /cart/items':
      return { product_id: w.product, quantity: 1 };
    case 'POST /orders/:id/cancel':
      return { reason: 'fz' };
    case 'POST /orders/:id/ship':
      return { tracking_number: 'TRK-1' };
    default:
      return {};
  }
}

interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  route: string;
}

function generate(w: World, r: Rng, routes: string[], n: number): FuzzRequest {
  const unknownRoute = r.chance(0.02);
  const route = unknownRoute
    ? `${r.pick(['GET', 'POST', 'PATCH', 'OPTIONS'])} /${r.pick(['nope', 'products/x/y', 'admin', '.env', 'events/', 'cart/items/', '%2e%2e/etc/passwd'])}`
    : r.pick(routes);
  const method = route.slice(0, route.indexOf(' '));
  let path = route
    .slice(route.indexOf(' ') + 1)
    .replace(/:file\{[^}]*\}\}?/, () => r.pick(['app.js', 'app.css', 'nope.svg', '..%2f..%2fpackage.json.js']));
  path = path.replace(/:(\w+)/g, () => {
    const id = r.pick(ids(w, r));
    return id.includes('%') || r.chance(0.5) ? id.replace(/[#?]/g, '') : encodeURIComponent(id);
  });
  if (path.includes('/orders/status/') && r.chance(0.5)) path = path.replace(/[^/]+$/, r.pick(['pending', 'bogus', 'PAID']));
  if (r.chance(0.6)) {
    const params = Array.from({ length: 1 + r.int(3) }, () => `${r.pick(QUERY_NAMES)}=${encodeURIComponent(queryValue(w, r))}`);
    path += `?${params.join('&')}`;
  }
  const headers: Record<string, string> = { 'x-request-id': `fuzz-${SEED}-${n}` };
  const who = r.int(10);
  if (who < 3) headers.authorization = `Bearer ${w.me.token}`;
  else if (who < 5) headers.authorization = `Bearer ${f.admin}`;
  else if (who < 7)
    headers.authorization = r.pick([
      `Bearer ${r.pick(w.tokens)}`,
      'Bearer',
      'Basic YWRtaW46YWRtaW4xMjM=',
      `bearer  ${w.me.token}`,
      `Bearer ${w.me.token} extra`,
      'Bearer ' + 'x'.repeat(5000),
    ]);
  if (r.chance(0.15)) headers['x-min-version'] = r.pick(['abc', '-1', '1', '999', '1e3', '', '99999999999']);
  if (r.chance(0.15)) headers['idempotency-key'] = r.pick(['k', ' ', 'k'.repeat(201), 'a b', uniq('fz-key'), '\t']);
  if (r.chance(0.2)) headers['x-forwarded-for'] = r.pick(['1.2.3.4', 'garbage', '::1, 10.0.0.1', '127.0.0.1']);

  let body: string | undefined;
  if (method !== 'GET' && method !== 'HEAD' && !r.chance(0.15)) {
    const base = template(route, w);
    const kind = r.int(10);
    if (kind < 4) {
      const keys = Object.keys(base);
      const field = keys.length && r.chance(0.8) ? r.pick(keys) : r.pick(['extra', '__proto__', 'role']);
      body = r.chance(0.2)
        ? JSON.stringify({ ...base, [field]: '__RAW__' }).replace(
            '"__RAW__"',
            r.pick(['1e400', '-1e400', 'NaN', '0x10', '01', '"\\ud800"', '"\\u0000"']),
          )
        : JSON.stringify({ ...base, [field]: badValue(w, r) });
    } else if (kind < 6) body = JSON.stringify(randomJson(r, 1 + r.int(5)));
    else if (kind < 7) {
      const depth = 20 + r.int(200);
      body = r.chance(0.5) ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
    } else if (kind < 8)
      body = r.pick([
        '{',
        '{"a":1,}',
        "{'a':1}",
        'null',
        '[]',
        '"text"',
        '42',
        'true',
        '\u0000',
        '{"a":"\\x41"}',
        '\ufeff{}',
        '{}{}',
        ' ',
        '{"name": "a", "name": "b"}',
      ]);
    else if (kind < 9) body = JSON.stringify({ ...base, pad: 'x'.repeat(r.pick([1000, 70_000])) });
    else body = JSON.stringify(base);
    const type = r.int(10);
    headers['content-type'] =
      type < 7
        ? 'application/json'
        : r.pick([
            'text/plain',
            'application/x-www-form-urlencoded',
            'application/json; charset=utf-16',
            'multipart/form-data; boundary=x',
            'application/vnd.api+json',
            'application/jsonx',
          ]);
  }
  return { method, path, headers, ...(body !== undefined ? { body } : {}), route };
}

// --- an independent validator of stored events -----------------------------------------------------------------

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
const line = (max: number) =>
  z
    .string()
    .min(1)
    .refine(
      // eslint-disable-next-line no-control-regex
      (s) => [...s].length <= max && !/[\u0000-\u001f\u007f]/.test(s) && s === s.trim() && !LONE_SURROGATE.test(s),
      'a clean single line',
    );
const text = (max: number) =>
  z.string().refine(
    // eslint-disable-next-line no-control-regex
    (s) => [...s].length <= max && !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(s) && !LONE_SURROGATE.test(s),
    'clean text',
  );
const instant = z.string().refine((s) => !Number.isNaN(instantMs(s)), 'an ISO-8601 instant');
const int = (min: number, max: number) => z.number().int().min(min).max(max);
const email = z
  .string()
  .max(254)
  .regex(/^[^\s@A-Z]+@[a-z0-9.-]+\.[a-z]{2,}$/);
const item = z.strictObject({
  product_id: uuid,
  name: line(200),
  price: int(1, 10_000_000),
  quantity: int(1, 99),
  subtotal: int(1, 990_000_000),
});
const EVENT_SCHEMAS: Record<string, z.ZodType> = {
  UserRegistered: z.strictObject({ user_id: uuid, email, name: line(100), role: z.enum(['customer', 'admin']), registered_at: instant }),
  EmailClaimed: z.strictObject({ email, user_id: uuid }),
  CategoryCreated: z.strictObject({ category_id: uuid, name: line(50), created_at: instant }),
  CategoryNameClaimed: z.strictObject({ name: line(50), category_id: uuid }),
  ProductCreated: z.strictObject({
    product_id: uuid,
    name: line(200),
    description: text(2000),
    price: int(1, 10_000_000),
    category_id: uuid.nullable(),
    created_at: instant,
  }),
  ProductUpdated: z.strictObject({
    product_id: uuid,
    name: line(200),
    description: text(2000),
    price: int(1, 10_000_000),
    category_id: uuid.nullable(),
    updated_at: instant,
  }),
  ProductDeleted: z.strictObject({ product_id: uuid, deleted_at: instant }),
  StockAdded: z.strictObject({ product_id: uuid, quantity: int(1, 1_000_000), added_at: instant }),
  StockReserved: z.strictObject({
    product_id: uuid,
    reservation_id: uuid,
    order_id: uuid,
    quantity: int(1, 1_000_000),
    expires_at: instant,
    reserved_at: instant,
  }),
  StockDeducted: z.strictObject({
    product_id: uuid,
    reservation_id: uuid,
    order_id: uuid,
    quantity: int(1, 1_000_000),
    deducted_at: instant,
  }),
  StockReleased: z.strictObject({
    product_id: uuid,
    reservation_id: uuid,
    order_id: uuid,
    quantity: int(1, 1_000_000),
    reason: z.enum(['cancelled', 'expired', 'shipment_failed']),
    released_at: instant,
  }),
  StockReturned: z.strictObject({
    product_id: uuid,
    order_id: uuid,
    quantity: int(1, 1_000_000),
    reason: z.enum(['cancelled', 'shipment_failed']),
    returned_at: instant,
  }),
  ItemAddedToCart: z.strictObject({
    cart_id: z.string().regex(/^cart-[0-9a-f-]{36}$/),
    user_id: uuid,
    product_id: uuid,
    quantity: int(1, 99),
    line_quantity: int(1, 99),
    price: int(1, 10_000_000),
    name: line(200),
  }),
  ItemRemovedFromCart: z.strictObject({ cart_id: z.string().regex(/^cart-[0-9a-f-]{36}$/), user_id: uuid, product_id: uuid }),
  CartCleared: z.strictObject({
    cart_id: z.string().regex(/^cart-[0-9a-f-]{36}$/),
    user_id: uuid,
    reason: z.enum(['checkout', 'user']),
    order_id: uuid.optional(),
  }),
  OrderPlaced: z.strictObject({
    order_id: uuid,
    user_id: uuid,
    user_email: email,
    items: z.array(item).min(1).max(40),
    total: int(1, 40 * 990_000_000),
    expires_at: instant,
    placed_at: instant,
  }),
  OrderPaid: z.strictObject({ order_id: uuid, amount: int(1, 40 * 990_000_000), paid_at: instant }),
  OrderShipped: z.strictObject({ order_id: uuid, tracking_number: z.string().regex(/^[A-Za-z0-9-]{1,100}$/), shipped_at: instant }),
  OrderDelivered: z.strictObject({ order_id: uuid, delivered_at: instant }),
  OrderCancelled: z.strictObject({
    order_id: uuid,
    reason: line(500),
    cancelled_by: z.enum(['customer', 'admin', 'system']),
    cancelled_at: instant,
  }),
  OrderShipmentFailed: z.strictObject({ order_id: uuid, reason: line(500), failed_at: instant }),
  OrderPaymentRefunded: z.strictObject({
    order_id: uuid,
    amount: int(1, 40 * 990_000_000),
    reason: z.enum(['cancelled', 'shipment_failed']),
    refunded_at: instant,
  }),
  ShipmentInitiated: z.strictObject({ shipment_id: z.string().min(1).max(128), order_id: uuid, initiated_at: instant }),
  ShipmentRequested: z.strictObject({
    shipment_id: z.string().min(1).max(128),
    order_id: uuid,
    carrier: line(100),
    carrier_reference: line(200),
    requested_at: instant,
  }),
  ShipmentCompleted: z.strictObject({
    shipment_id: z.string().min(1).max(128),
    order_id: uuid,
    tracking_number: z.string().regex(/^[A-Za-z0-9-]{1,100}$/),
    completed_at: instant,
    dispatched_by: z.enum(['carrier', 'admin']).optional(),
  }),
  ShipmentFailed: z.strictObject({ shipment_id: z.string().min(1).max(128), order_id: uuid, reason: line(500), failed_at: instant }),
  ShipmentCancelled: z.strictObject({ shipment_id: z.string().min(1).max(128), order_id: uuid, reason: line(500), cancelled_at: instant }),
};

function refusals(e: EventEnvelope): string[] {
  const schema = EVENT_SCHEMAS[e.event_type];
  if (!schema) return [`${e.event_type}: no schema in this test's validator; add one`];
  const result = schema.safeParse(e.data);
  return result.success
    ? []
    : result.error.issues.map((i) => `${e.event_type} ${e.aggregate_id}@${e.version}: ${i.path.join('.')} ${i.message}`);
}

// --------------------------------------------------------------------------------------------------------------

test(
  `fuzz: ${REQUESTS} generated bad requests over every route (seed ${SEED}) → no 5xx, no hang, no invalid event`,
  { timeout: 600_000 },
  async (t) => {
    const { http } = f.a;
    const me = await f.a.customer('ファズ');
    const session = (await http.post('/auth/login', { email: me.email, password: me.password })).body;
    const product = (await f.a.product({ name: `fz ${uniq()}`, price: 1000, stock: 1000 })).id as string;
    const category = (await http.post('/categories', { name: `fz ${uniq()}` }, f.admin)).body;
    const order = (await f.a.order(me, [[product, 1]])).order_id as string;
    const world: World = {
      product,
      order,
      category,
      me: { ...me, refresh: session.refresh_token },
      tokens: Object.values(forgeries({ access: me.token, refresh: session.refresh_token })),
    };
    const routes = registeredRoutes();
    const r = prng(SEED);
    const requests = Array.from({ length: REQUESTS }, (_, n) => generate(world, r, routes, n));

    const started = Date.now();
    const statuses = new Map<number, number>();
    const perRoute = new Map<string, number>();
    const serverErrors: string[] = [];
    const hangs: string[] = [];
    let next = 0;
    const describe = (q: FuzzRequest) =>
      `${q.method} ${q.path.slice(0, 160)} ${q.headers.authorization ? '(auth) ' : ''}${(q.body ?? '').slice(0, 120)}`;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < requests.length) {
          const q = requests[next++]!;
          perRoute.set(q.route, (perRoute.get(q.route) ?? 0) + 1);
          try {
            const res = await fetch(`${f.shop.baseUrl}${q.path}`, {
              method: q.method,
              headers: q.headers,
              ...(q.body !== undefined ? { body: q.body } : {}),
              signal: AbortSignal.timeout(HANG_MS),
            });
            // An event stream (GET /live) answers with its head at once and then stays open by design: the head
            // in time is the answer; the body is not waited for.
            const streaming = String(res.headers.get('content-type')).startsWith('text/event-stream');
            const body = streaming ? (await res.body?.cancel(), '') : await res.text();
            statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
            // Health telling the truth about a dependency is not a failure of input handling.
            const health = q.path.startsWith('/readyz') && res.status === 503 && body.includes('"checks"');
            if (res.status >= 500 && !health) serverErrors.push(`${res.status} ← ${describe(q)} → ${body.slice(0, 200)}`);
          } catch (err) {
            if ((err as Error).name === 'TimeoutError') hangs.push(describe(q));
            else throw new Error(`${describe(q)}: ${(err as Error).message}`);
          }
        }
      }),
    );
    const seconds = (Date.now() - started) / 1000;
    t.diagnostic(
      `seed ${SEED}: ${requests.length} requests in ${seconds.toFixed(1)} s over ${perRoute.size} routes; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort(([a], [b]) => a - b)))}`,
    );
    const untouched = routes.filter((route) => !perRoute.has(route));
    assert.deepEqual(untouched, [], 'routes the fuzz never called');
    assert.deepEqual(serverErrors.slice(0, 20), [], `${serverErrors.length} answers were 5xx`);
    assert.deepEqual(hangs.slice(0, 20), [], `${hangs.length} requests got no answer within ${HANG_MS} ms`);

    // What got through: every event whose correlation id is one of the fuzz's request ids.
    const client = createDynamoClient({ endpoint: stackEnv().dynamodbEndpoint, region: 'ap-northeast-1' });
    const fuzzed: EventEnvelope[] = [];
    try {
      await createDynamoEventStore({ client, tables: DEFAULT_TABLES }).scanAll(async (page) => {
        fuzzed.push(...page.filter((e) => e.metadata.correlation_id?.startsWith(`fuzz-${SEED}-`)));
      });
    } finally {
      client.destroy();
    }
    const invalid = fuzzed.flatMap(refusals);
    t.diagnostic(
      `${fuzzed.length} events appended by fuzz requests: ${JSON.stringify(Object.fromEntries(fuzzed.reduce((m, e) => m.set(e.event_type, (m.get(e.event_type) ?? 0) + 1), new Map<string, number>())))}`,
    );
    assert.deepEqual(invalid.slice(0, 20), [], `${invalid.length} stored events a validator refuses`);

    // And the read side took every one of them (the projector's decoder is the other validator).
    if (fuzzed.length > 0) {
      const pool = new pg.Pool({ connectionString: stackEnv().databaseUrl, max: 2 });
      try {
        await eventually(
          async () => {
            const { rows } = await pool.query<{ n: number }>(
              'SELECT count(*)::int AS n FROM read_event_log WHERE event_id = ANY($1::uuid[])',
              [fuzzed.map((e) => e.event_id)],
            );
            return rows[0]!.n === fuzzed.length;
          },
          { timeoutMs: 30_000, what: 'every fuzz event in read_event_log' },
        );
      } finally {
        await pool.end();
      }
    }
  },
);
