import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { uniq } from '../support/env.ts';
import { eventually } from '../support/http.ts';
import { startShop, type ShopProcesses } from '../support/processes.ts';
import { assertProblem, shopActors, type Customer, type ShopActors } from '../support/shop.ts';

/**
 * Every endpoint of src/http/routes/*.ts gets bad input: malformed JSON, wrong types, out-of-range numbers,
 * over-long strings, bad path ids and query parameters, an oversized body. Each answer must be a 4xx problem,
 * and nothing may be appended: the streams involved keep their versions, and no event in the global log
 * carries the correlation id (X-Request-Id) of a bad request.
 */
let shop: ShopProcesses;
let a: ShopActors;
let admin: string;
let me: Customer;
let product: any;
let sentinel: any;
let category: any;
const orders: Record<'pending' | 'paid' | 'shipped', string> = { pending: '', paid: '', shipped: '' };

before(async () => {
  shop = await startShop();
  a = shopActors(shop.baseUrl);
  admin = await a.admin();
  me = await a.customer();
  category = (await a.http.post('/categories', { name: `検証 ${uniq()}` }, admin)).body;
  product = await a.product({ price: 1000, stock: 10 });
  sentinel = await a.product({ stock: 1 });
  orders.pending = (await a.order(me, [[product.id, 1]])).order_id;
  orders.paid = (await a.order(me, [[product.id, 1]])).order_id;
  assert.equal((await a.http.post(`/orders/${orders.paid}/pay`, undefined, me.token)).status, 200);
  orders.shipped = (await a.order(me, [[product.id, 1]])).order_id;
  assert.equal((await a.http.post(`/orders/${orders.shipped}/pay`, undefined, me.token)).status, 200);
  assert.equal((await a.http.post(`/orders/${orders.shipped}/ship`, { tracking_number: 'TRK-0' }, admin)).status, 200);
  // A line in the cart: a checkout that ignored a bad body would succeed.
  await a.addToCart(me.token, product.id, 1);
});
after(async () => {
  await shop?.stop();
});

type Who = 'admin' | 'me' | 'anonymous';
interface Case {
  name: string;
  method: string;
  path: string;
  who: Who;
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
  /** An exact status; otherwise any 4xx but 401/403 (which would mean validation was never reached). */
  status?: number;
  statuses?: number[];
}

const LONG = 'x'.repeat(10_001);
/** Placeholder for a number JSON can spell but JavaScript cannot hold (1e400 parses to Infinity). */
const RAW_HUGE = { raw: '1e400' };
const NOT_STRING = [123, null, [], {}, true, LONG];
// A lone surrogate is not Unicode text: PostgreSQL's jsonb (the read side) and mail headers cannot hold it.
const NOT_TEXT = [...NOT_STRING, '', '   ', 'a\u0000b', 'a\ud800b'];
const NOT_LINE = [...NOT_TEXT, 'a\nb'];
const NOT_POSITIVE_INT = ['1', null, [], {}, true, 0, -1, 1.5, 1e20, 2 ** 53 + 2, RAW_HUGE];
const UNKNOWN = '00000000-0000-4000-8000-000000000000';

/** A JSON body with one field replaced (or removed with `undefined`), raw when the value cannot be JSON-encoded. */
function withField(base: Record<string, unknown>, field: string, value: unknown): Pick<Case, 'body' | 'raw'> {
  if (value === undefined) return { body: Object.fromEntries(Object.entries(base).filter(([k]) => k !== field)) };
  if (value && typeof value === 'object' && 'raw' in value) {
    return { raw: JSON.stringify({ ...base, [field]: '__RAW__' }).replace('"__RAW__"', (value as { raw: string }).raw) };
  }
  return { body: { ...base, [field]: value } };
}

const show = (v: unknown) => (typeof v === 'string' && v.length > 40 ? `"${v.slice(0, 10)}…" (${v.length})` : JSON.stringify(v));

interface BodyRoute {
  method: string;
  path: () => string;
  who: Who;
  /** A valid body: without validation, every case below would have succeeded. */
  base: () => Record<string, unknown>;
  bad: Record<string, unknown[]>;
  required: string[];
  /** Statuses a bad value may get besides 400 (e.g. 401 for login, 404 for an unknown reference). */
  also?: number[];
  unknownRefs?: Record<string, unknown>;
}

const bodyRoutes = (): BodyRoute[] => [
  {
    method: 'POST',
    path: () => '/auth/register',
    who: 'anonymous',
    base: () => ({ email: `${uniq('v')}@example.com`, password: 'password123', name: 'Taro' }),
    bad: { email: [...NOT_TEXT, 'not-an-email'], password: [...NOT_STRING, '', 'short'], name: NOT_LINE },
    required: ['email', 'password', 'name'],
  },
  {
    method: 'POST',
    path: () => '/auth/login',
    who: 'anonymous',
    base: () => ({ email: me.email, password: me.password }),
    bad: { email: [123, null, [], LONG], password: [123, null, [], LONG] },
    required: ['email', 'password'],
  },
  {
    method: 'POST',
    path: () => '/auth/refresh',
    who: 'anonymous',
    base: () => ({ refresh_token: 'x' }),
    bad: { refresh_token: [123, null, [], LONG] },
    required: ['refresh_token'],
  },
  {
    method: 'POST',
    path: () => '/categories',
    who: 'admin',
    base: () => ({ name: `ok ${uniq()}` }),
    bad: { name: [...NOT_LINE, 'x'.repeat(51)] },
    required: ['name'],
  },
  {
    method: 'POST',
    path: () => '/products',
    who: 'admin',
    base: () => ({ name: 'ok', description: 'd', price: 100, stock: 1 }),
    bad: {
      name: [...NOT_LINE, 'x'.repeat(201)],
      description: [123, null, [], {}, LONG, 'a\u0000b', 'a\udc00b'],
      price: [...NOT_POSITIVE_INT, 10_000_001],
      stock: ['1', null, [], {}, true, -1, 1.5, 1e20, 1_000_001, RAW_HUGE],
      category: [123, [], {}, LONG],
    },
    required: ['name', 'price'],
    unknownRefs: { category: `missing-${UNKNOWN}` },
  },
  {
    method: 'PUT',
    path: () => `/products/${product.id}`,
    who: 'admin',
    base: () => ({ name: 'renamed', price: 200 }),
    bad: {
      name: [...NOT_LINE, 'x'.repeat(201)],
      description: [123, null, [], {}, LONG, 'a\u0000b', 'a\udc00b'],
      price: [...NOT_POSITIVE_INT, 10_000_001],
      category: [123, [], {}, LONG],
    },
    required: [],
    unknownRefs: { category: `missing-${UNKNOWN}` },
  },
  {
    method: 'POST',
    path: () => `/inventory/${product.id}/add_stock`,
    who: 'admin',
    base: () => ({ quantity: 1 }),
    bad: { quantity: [...NOT_POSITIVE_INT, 1_000_001] },
    required: ['quantity'],
  },
  {
    method: 'POST',
    path: () => '/cart/items',
    who: 'me',
    base: () => ({ product_id: product.id, quantity: 1 }),
    bad: { product_id: [...NOT_TEXT, '../x', 'x'.repeat(300)], quantity: [...NOT_POSITIVE_INT, 100] },
    required: ['product_id'],
    unknownRefs: { product_id: UNKNOWN },
  },
  {
    method: 'POST',
    path: () => `/orders/${orders.pending}/cancel`,
    who: 'me',
    base: () => ({ reason: '気が変わった' }),
    bad: { reason: [...NOT_LINE, 'x'.repeat(501)] },
    required: ['reason'],
  },
  {
    method: 'POST',
    path: () => `/orders/${orders.paid}/ship`,
    who: 'admin',
    base: () => ({ tracking_number: 'TRK-1' }),
    bad: { tracking_number: [...NOT_TEXT, 'TRK 1', '追跡番号', 'x'.repeat(101)] },
    required: ['tracking_number'],
  },
];

/** Commands that take no body: one that comes anyway must still be JSON (an object), or it is refused. */
const bodiless = (): Array<Pick<Case, 'method' | 'path' | 'who'>> => [
  { method: 'POST', path: '/orders', who: 'me' },
  { method: 'POST', path: `/orders/${orders.pending}/pay`, who: 'me' },
  { method: 'POST', path: `/orders/${orders.shipped}/deliver`, who: 'admin' },
  { method: 'DELETE', path: `/cart/items/${product.id}`, who: 'me' },
  { method: 'DELETE', path: '/cart', who: 'me' },
  { method: 'DELETE', path: `/products/${product.id}`, who: 'admin' },
];

const GARBAGE_BODIES = ['{"name": ', '{"a":1,}', "{'a':1}", 'null', '[]', '"text"', '42', 'true', '\u0000'];

function cases(): Case[] {
  const out: Case[] = [];
  const oversized = JSON.stringify({ name: 'x'.repeat(70 * 1024) });
  for (const r of bodyRoutes()) {
    const c = (name: string, extra: Partial<Case>, statuses?: number[]) =>
      out.push({
        name: `${r.method} ${r.path()} ${name}`,
        method: r.method,
        path: r.path(),
        who: r.who,
        ...(statuses ? { statuses } : r.also ? { statuses: [400, ...r.also] } : {}),
        ...extra,
      });
    const loginish = r.path().startsWith('/auth/log') || r.path().startsWith('/auth/ref') ? [400, 401] : undefined;
    for (const raw of GARBAGE_BODIES) c(`raw ${show(raw)}`, { raw }, [400]);
    c('no body', {}, [400]);
    c('text/plain', { raw: JSON.stringify(r.base()), headers: { 'content-type': 'text/plain' } }, [400, 415]);
    c('oversized', { raw: oversized }, [413]);
    for (const field of r.required) c(`without ${field}`, withField(r.base(), field, undefined), loginish ?? [400]);
    for (const [field, values] of Object.entries(r.bad)) {
      for (const value of values) c(`${field}=${show(value)}`, withField(r.base(), field, value), loginish ?? [400]);
    }
    for (const [field, value] of Object.entries(r.unknownRefs ?? {})) c(`unknown ${field}`, withField(r.base(), field, value), [404]);
  }
  for (const r of bodiless()) {
    for (const raw of GARBAGE_BODIES) out.push({ ...r, name: `${r.method} ${r.path} raw ${show(raw)}`, raw, statuses: [400] });
    out.push({ ...r, name: `${r.method} ${r.path} oversized`, raw: oversized, statuses: [413] });
  }
  out.push({ name: 'PUT with nothing to change', method: 'PUT', path: `/products/${product.id}`, who: 'admin', body: {}, statuses: [400] });
  out.push({
    name: 'Idempotency-Key too long',
    method: 'POST',
    path: `/inventory/${product.id}/add_stock`,
    who: 'admin',
    body: { quantity: 1 },
    headers: { 'idempotency-key': 'k'.repeat(201) },
    statuses: [400],
  });
  out.push({
    name: 'Idempotency-Key with a space',
    method: 'POST',
    path: `/inventory/${product.id}/add_stock`,
    who: 'admin',
    body: { quantity: 1 },
    headers: { 'idempotency-key': 'a b' },
    statuses: [400],
  });

  // Path ids: NUL, 300 characters, characters no id has, and unknown ids.
  const idRoutes: Array<[string, (id: string) => string, Who, unknown?]> = [
    ['GET', (id) => `/products/${id}`, 'anonymous'],
    ['PUT', (id) => `/products/${id}`, 'admin', { price: 5 }],
    ['DELETE', (id) => `/products/${id}`, 'admin'],
    ['POST', (id) => `/inventory/${id}/add_stock`, 'admin', { quantity: 1 }],
    ['GET', (id) => `/inventory/${id}`, 'admin'],
    ['DELETE', (id) => `/cart/items/${id}`, 'me'],
    ['GET', (id) => `/orders/${id}`, 'me'],
    ['POST', (id) => `/orders/${id}/pay`, 'me'],
    ['POST', (id) => `/orders/${id}/cancel`, 'me', { reason: 'x' }],
    ['POST', (id) => `/orders/${id}/ship`, 'admin', { tracking_number: 'TRK-9' }],
    ['POST', (id) => `/orders/${id}/deliver`, 'admin'],
    ['GET', (id) => `/events/${id}`, 'me'],
    ['GET', (id) => `/events/${id}/state`, 'me'],
  ];
  const badIds: Array<[string, number[]]> = [
    ['%00', [400, 404]],
    ['a'.repeat(300), [400]],
    ['a%20b', [400]],
    ['%E3%81%82', [400]],
    ['x%00y', [400]],
    [UNKNOWN, [404]],
  ];
  for (const [method, path, who, body] of idRoutes) {
    for (const [id, statuses] of badIds)
      out.push({ name: `${method} ${path(':id')} id=${show(id)}`, method, path: path(id), who, ...(body ? { body } : {}), statuses });
  }

  // Query parameters.
  const cursor = (...values: unknown[]) => Buffer.from(JSON.stringify(values)).toString('base64url');
  const queries: Array<[string, Who, string]> = [
    ['/products', 'anonymous', 'limit=-1'],
    ['/products', 'anonymous', 'limit=abc'],
    ['/products', 'anonymous', 'limit=0'],
    ['/products', 'anonymous', 'limit=1.5'],
    ['/products', 'anonymous', 'limit=99999999999999999999'],
    ['/products', 'anonymous', 'cursor=garbage'],
    ['/products', 'anonymous', `cursor=${cursor('orders', '2024-01-01T00:00:00Z', 'x')}`],
    ['/products', 'anonymous', `cursor=${cursor('products', 'not-a-date', 'x')}`],
    ['/products', 'anonymous', `cursor=${cursor('products', '2024-01-01T00:00:00Z', 'x\u0000')}`],
    ['/products', 'anonymous', `cursor=${'x'.repeat(600)}`],
    ['/products', 'anonymous', 'q=%00'],
    ['/products', 'anonymous', `q=${'q'.repeat(300)}`],
    ['/products', 'anonymous', 'category=%00'],
    ['/products', 'anonymous', `category=${'c'.repeat(300)}`],
    ['/products', 'anonymous', 'wait_for=garbage'],
    ['/products', 'anonymous', 'wait_for=x:-1'],
    [`/products/${product.id}`, 'anonymous', 'min_version=abc'],
    [`/products/${product.id}`, 'anonymous', 'min_version=-1'],
    ['/inventory', 'admin', 'limit=abc'],
    ['/inventory', 'admin', 'cursor=garbage'],
    ['/inventory', 'admin', `cursor=${cursor('inventory', 'x\u0000')}`],
    [`/inventory/${product.id}`, 'admin', 'min_version=1.5'],
    ['/cart', 'me', 'min_version=abc'],
    ['/orders', 'me', 'limit=-1'],
    ['/orders', 'me', 'limit=abc'],
    ['/orders', 'me', 'cursor=garbage'],
    ['/orders', 'me', `cursor=${cursor('orders', 'not-a-date', 'x')}`],
    ['/orders', 'me', 'status=bogus'],
    ['/orders', 'admin', 'status=%00'],
    ['/orders/status/bogus', 'me', ''],
    ['/orders/status/%00', 'me', ''],
    [`/orders/status/${'s'.repeat(300)}`, 'me', ''],
    ['/orders/status/pending', 'me', 'cursor=garbage'],
    [`/orders/${orders.pending}`, 'me', 'min_version=abc'],
    ['/events', 'admin', 'limit=abc'],
    ['/events', 'admin', 'limit=0'],
    ['/events', 'admin', 'before=garbage'],
    ['/events', 'admin', `before=${cursor('events', '2024-01-01T00:00:00Z', 'not-a-uuid')}`],
    ['/events', 'admin', `before=${cursor('events', 'not-a-date', UNKNOWN)}`],
    [`/events/${orders.pending}/state`, 'me', 'at=not-a-date'],
    [`/events/${orders.pending}/state`, 'me', 'at=%00'],
    [`/events/${orders.pending}/state`, 'me', 'version=abc'],
    [`/events/${orders.pending}/state`, 'me', 'version=0'],
    ['/sagas', 'admin', 'limit=abc'],
    ['/sagas', 'admin', 'saga_id=%00'],
    ['/sagas', 'admin', `saga_id=${'s'.repeat(300)}`],
    ['/marketing/customers', 'admin', 'limit=-1'],
    ['/marketing/products', 'admin', 'limit=abc'],
    ['/marketing/daily', 'admin', 'days=abc'],
    ['/marketing/daily', 'admin', 'days=0'],
    ['/marketing/daily', 'admin', 'days=100000'],
  ];
  for (const [path, who, query] of queries)
    out.push({
      name: `GET ${path.slice(0, 40)}?${query.slice(0, 60)}`,
      method: 'GET',
      path: `${path}${query ? `?${query}` : ''}`,
      who,
      statuses: [400],
    });
  out.push({
    name: 'GET /me with a garbage token',
    method: 'GET',
    path: '/me',
    who: 'anonymous',
    headers: { authorization: 'Bearer garbage' },
    statuses: [401],
  });
  out.push({ name: 'an unknown route', method: 'GET', path: '/nope', who: 'anonymous', statuses: [404] });
  return out;
}

test('bad input to every endpoint is a 4xx problem and appends nothing', async () => {
  const { http } = a;
  const streams = [
    product.id,
    `inventory-${product.id}`,
    `cart-${me.user_id}`,
    orders.pending,
    orders.paid,
    orders.shipped,
    category.id,
    me.user_id,
  ];
  const versions = async (): Promise<Record<string, number>> =>
    Object.fromEntries(await Promise.all(streams.map(async (id) => [id, (await a.stream(id)).version] as const)));
  const before = await versions();
  assert.ok(
    Object.values(before).every((v) => v > 0),
    JSON.stringify(before),
  );
  const startedAt = new Date(Date.now() - 1000).toISOString();
  const prefix = uniq('bad');
  const token = (who: Who) => (who === 'admin' ? admin : who === 'me' ? me.token : undefined);

  const all = cases();
  const failures: string[] = [];
  // A few at a time: fast, yet never enough to trip the login rate limit per account.
  for (let i = 0; i < all.length; i += 8) {
    await Promise.all(
      all.slice(i, i + 8).map(async (c, j) => {
        const t = token(c.who);
        const headers = { 'x-request-id': `${prefix}-${i + j}`, ...(t ? { authorization: `Bearer ${t}` } : {}), ...c.headers };
        const res = await http.call(c.method, c.path, {
          headers,
          ...(c.raw !== undefined ? { raw: c.raw } : c.body !== undefined ? { body: c.body } : {}),
        });
        try {
          assert.ok(res.status >= 400 && res.status < 500, 'a 4xx');
          if (c.statuses) assert.ok(c.statuses.includes(res.status), `one of ${c.statuses}`);
          assertProblem(res);
        } catch (err) {
          failures.push(`${c.name}: ${res.status} ${JSON.stringify(res.body)?.slice(0, 160)} (${(err as Error).message.split('\n')[0]})`);
        }
      }),
    );
  }
  if (failures.length > 0) assert.fail(`${failures.length} of ${all.length} cases failed:\n${failures.sort().join('\n')}`);

  // The event store: the streams the requests named are where they were.
  assert.deepEqual(await versions(), before);

  // The global log: after a sentinel command has been projected, no event carries a bad request's id.
  const mark = await http.post(`/inventory/${sentinel.id}/add_stock`, { quantity: 1 }, admin, { 'x-request-id': `${prefix}-sentinel` });
  assert.equal(mark.status, 200, JSON.stringify(mark.body));
  const logged = await eventually(
    async () => {
      const found: any[] = [];
      let cursor: string | null = null;
      let sawSentinel = false;
      for (let page = 0; page < 50; page++) {
        const res: any = await http.get(`/events?limit=500${cursor ? `&before=${encodeURIComponent(cursor)}` : ''}`, admin);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        for (const e of res.body.items) {
          if (e.created_at < startedAt) continue;
          if (e.metadata?.correlation_id === `${prefix}-sentinel`) sawSentinel = true;
          else if (String(e.metadata?.correlation_id ?? '').startsWith(`${prefix}-`)) found.push(e);
        }
        cursor = res.body.next_before;
        if (!cursor || res.body.items.at(-1)?.created_at < startedAt) break;
      }
      return sawSentinel ? { found } : undefined;
    },
    { what: 'the sentinel event in the global log' },
  );
  assert.deepEqual(
    logged.found.map((e) => `${e.event_type} ${e.aggregate_id} (${e.metadata.correlation_id})`),
    [],
  );
});

test('the same bad inputs leave the read side as it was', async () => {
  const { http } = a;
  const shown = await http.get(`/products/${product.id}`);
  assert.deepEqual([shown.body.name, shown.body.price, shown.body.deleted], [product.name, 1000, false]);
  const cart = await http.get('/cart', me.token);
  assert.deepEqual(
    cart.body.items.map((i: any) => [i.product_id, i.quantity]),
    [[product.id, 1]],
  );
  const statuses = await Promise.all(Object.values(orders).map(async (id) => (await http.get(`/orders/${id}`, me.token)).body.status));
  assert.deepEqual(statuses, ['pending', 'paid', 'shipped']);
  const mine = await http.get('/orders?limit=100', me.token);
  assert.equal(mine.body.items.length, 3, 'no order was placed');
});
