import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { stackSecrets, uniq } from '../support/env.ts';
import { eventually, type Reply } from '../support/http.ts';
import { assertProblem, useShop, type ShopFixture } from '../support/shop.ts';
import { decodeJwt, forgeries, registeredRoutes, signJwt, TEST_JWT_SECRET } from '../support/security.ts';

/**
 * Issue #9: who may call what, over EVERY route the api registers (the table below must name each one, or the
 * first test fails). Each route is called by an anonymous client, customer A (who owns the resources), customer B
 * and the admin, with a request that succeeds for an allowed caller; and by A's forged tokens. Refused commands
 * must leave their stream as it was.
 */
let f: ShopFixture;
useShop((fixture) => (f = fixture), { env: { JWT_SECRET: TEST_JWT_SECRET } });

type Who = 'anonymous' | 'A' | 'B' | 'admin';
type Access = 'public' | 'auth' | 'user' | 'owner' | 'admin';
interface Call {
  path: string;
  body?: unknown;
  /** Statuses of success for an allowed caller. */
  ok: number[];
  /** A stream the call would change: a refused call must leave its version as it was. */
  stream?: string;
  /** A Server-Sent Events route: success is judged on the status and content type, then the stream is closed. */
  sse?: boolean;
}
interface RouteCase {
  access: Access;
  make: (who: Who) => Promise<Call>;
}

interface Account {
  email: string;
  password: string;
  user_id: string;
  token: string;
  refresh: string;
}
let A: Account;
let B: Account;
let adminAccount: Account;
let product: string;

async function account(): Promise<Account> {
  const email = `${uniq('m')}@example.com`;
  const password = 'matrix password 1';
  assert.equal((await f.a.http.post('/auth/register', { email, password, name: '行列 太郎' })).status, 201);
  return login(email, password);
}
async function login(email: string, password: string): Promise<Account> {
  const res = await f.a.http.post('/auth/login', { email, password });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return { email, password, user_id: res.body.user.user_id, token: res.body.access_token, refresh: res.body.refresh_token };
}

const tokenOf = (who: Who): string | undefined =>
  who === 'A' ? A.token : who === 'B' ? B.token : who === 'admin' ? adminAccount.token : undefined;
const asUser = (who: Who): Account => (who === 'B' ? B : who === 'admin' ? adminAccount : A);

/** A fresh pending order of A (one unit of the product). */
async function orderOfA(): Promise<string> {
  await f.a.addToCart(A.token, product, 1);
  const res = await f.a.http.post('/orders', undefined, A.token);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.order_id;
}
const paidOrderOfA = async () => {
  const id = await orderOfA();
  assert.equal((await f.a.http.post(`/orders/${id}/pay`, undefined, A.token)).status, 200);
  return id;
};
const shippedOrderOfA = async () => {
  const id = await paidOrderOfA();
  assert.equal((await f.a.http.post(`/orders/${id}/ship`, { tracking_number: 'TRK-M1' }, f.admin)).status, 200);
  return id;
};
const version = async (stream: string) => (await f.a.stream(stream)).version;

const ROUTES: Record<string, RouteCase> = {
  'GET /healthz': { access: 'public', make: async () => ({ path: '/healthz', ok: [200] }) },
  'GET /readyz': { access: 'public', make: async () => ({ path: '/readyz', ok: [200] }) },
  'GET /metrics': { access: 'public', make: async () => ({ path: '/metrics', ok: [200] }) },
  'GET /ops/links': { access: 'public', make: async () => ({ path: '/ops/links', ok: [200] }) },
  'GET /': { access: 'public', make: async () => ({ path: '/', ok: [200] }) },
  'GET /assets/*': {
    access: 'public',
    make: async () => {
      // The built SPA's assets are named by content hash: take one that index.html links.
      const page = await f.a.http.get('/');
      const asset = /\/assets\/[\w.-]+\.js/.exec(String(page.body))?.[0];
      assert.ok(asset, `index.html links no script: ${String(page.body).slice(0, 200)}`);
      return { path: asset, ok: [200] };
    },
  },
  'GET /favicon.svg': { access: 'public', make: async () => ({ path: '/favicon.svg', ok: [200] }) },
  'GET /live': { access: 'user', make: async () => ({ path: '/live', ok: [200], sse: true }) },
  'GET /ops/dlq': { access: 'admin', make: async () => ({ path: '/ops/dlq', ok: [200] }) },
  'GET /ops/rebuilds': { access: 'admin', make: async () => ({ path: '/ops/rebuilds', ok: [200] }) },
  // An id that names no record: the admin gets past the guard to an honest 404.
  'POST /ops/dlq/:id/replay': { access: 'admin', make: async () => ({ path: '/ops/dlq/0:999999999/replay', body: {}, ok: [404] }) },
  'GET /ops/parked': { access: 'admin', make: async () => ({ path: '/ops/parked', ok: [200] }) },
  'POST /ops/parked/:aggregate_id/retry': {
    access: 'admin',
    make: async () => ({ path: `/ops/parked/${uniq('not-parked')}/retry`, body: {}, ok: [404] }),
  },
  'GET /categories': { access: 'public', make: async () => ({ path: '/categories', ok: [200] }) },
  'GET /products': { access: 'public', make: async () => ({ path: '/products', ok: [200] }) },
  'GET /products/:id': { access: 'public', make: async () => ({ path: `/products/${product}`, ok: [200] }) },

  'POST /auth/register': {
    access: 'auth',
    make: async () => ({
      path: '/auth/register',
      body: { email: `${uniq('r')}@example.com`, password: 'password 123', name: 'R' },
      ok: [201],
    }),
  },
  'POST /auth/login': {
    access: 'auth',
    make: async () => ({ path: '/auth/login', body: { email: A.email, password: A.password }, ok: [200] }),
  },
  'POST /auth/refresh': {
    access: 'auth',
    make: async () => ({ path: '/auth/refresh', body: { refresh_token: (await login(A.email, A.password)).refresh }, ok: [200] }),
  },
  'POST /auth/logout': {
    access: 'auth',
    make: async () => ({ path: '/auth/logout', body: { refresh_token: (await login(A.email, A.password)).refresh }, ok: [204] }),
  },

  'GET /me': { access: 'user', make: async () => ({ path: '/me', ok: [200] }) },
  'GET /cart': { access: 'user', make: async () => ({ path: '/cart', ok: [200] }) },
  'DELETE /cart': { access: 'user', make: async (who) => ({ path: '/cart', ok: [200], stream: `cart-${asUser(who).user_id}` }) },
  'POST /cart/items': {
    access: 'user',
    make: async (who) => ({
      path: '/cart/items',
      body: { product_id: product, quantity: 1 },
      ok: [201],
      stream: `cart-${asUser(who).user_id}`,
    }),
  },
  'DELETE /cart/items/:product_id': {
    access: 'user',
    make: async (who) => {
      if (who !== 'anonymous') await f.a.addToCart(tokenOf(who)!, product, 1);
      return { path: `/cart/items/${product}`, ok: [200], stream: `cart-${asUser(who).user_id}` };
    },
  },
  'POST /orders': {
    access: 'user',
    make: async (who) => {
      if (who !== 'anonymous') await f.a.addToCart(tokenOf(who)!, product, 1);
      return { path: '/orders', ok: [201], stream: `cart-${asUser(who).user_id}` };
    },
  },
  'GET /orders': { access: 'user', make: async () => ({ path: '/orders', ok: [200] }) },
  'GET /orders/status/:status': { access: 'user', make: async () => ({ path: '/orders/status/pending', ok: [200] }) },

  'GET /orders/:id': { access: 'owner', make: async () => ({ path: `/orders/${await orderOfA()}?min_version=1`, ok: [200] }) },
  'POST /orders/:id/pay': {
    access: 'owner',
    make: async () => {
      const id = await orderOfA();
      return { path: `/orders/${id}/pay`, ok: [200], stream: id };
    },
  },
  'POST /orders/:id/cancel': {
    access: 'owner',
    make: async () => {
      const id = await orderOfA();
      return { path: `/orders/${id}/cancel`, body: { reason: '行列' }, ok: [200], stream: id };
    },
  },
  'GET /events/:aggregate_id': { access: 'owner', make: async () => ({ path: `/events/${await orderOfA()}`, ok: [200] }) },
  'GET /events/:aggregate_id/state': {
    access: 'owner',
    make: async () => ({ path: `/events/${await orderOfA()}/state?version=1`, ok: [200] }),
  },

  'POST /orders/:id/ship': {
    access: 'admin',
    make: async () => {
      const id = await paidOrderOfA();
      return { path: `/orders/${id}/ship`, body: { tracking_number: 'TRK-M2' }, ok: [200], stream: id };
    },
  },
  'POST /orders/:id/deliver': {
    access: 'admin',
    make: async () => {
      const id = await shippedOrderOfA();
      return { path: `/orders/${id}/deliver`, ok: [200], stream: id };
    },
  },
  'GET /orders/statistics': { access: 'admin', make: async () => ({ path: '/orders/statistics', ok: [200] }) },
  'GET /events': { access: 'admin', make: async () => ({ path: '/events?limit=5', ok: [200] }) },
  'GET /ops/lag': { access: 'admin', make: async () => ({ path: '/ops/lag', ok: [200] }) },
  'GET /sagas': { access: 'admin', make: async () => ({ path: '/sagas', ok: [200] }) },
  'GET /sagas/:id': {
    access: 'admin',
    make: async () => {
      // The worker opens the fulfilment saga when OrderPaid reaches it: wait until the log has it.
      const saga = `fulfilment-${await paidOrderOfA()}`;
      await eventually(async () => (await f.a.http.get(`/sagas/${saga}`, f.admin)).status === 200, { what: `saga ${saga} in the log` });
      return { path: `/sagas/${saga}`, ok: [200] };
    },
  },
  'GET /marketing/overview': { access: 'admin', make: async () => ({ path: '/marketing/overview', ok: [200] }) },
  'GET /marketing/customers': { access: 'admin', make: async () => ({ path: '/marketing/customers', ok: [200] }) },
  'GET /marketing/products': { access: 'admin', make: async () => ({ path: '/marketing/products', ok: [200] }) },
  'GET /marketing/daily': { access: 'admin', make: async () => ({ path: '/marketing/daily', ok: [200] }) },
  'GET /dashboard': { access: 'admin', make: async () => ({ path: '/dashboard', ok: [200] }) },
  'POST /categories': { access: 'admin', make: async () => ({ path: '/categories', body: { name: `行列 ${uniq()}` }, ok: [201] }) },
  'POST /products': {
    access: 'admin',
    make: async () => ({ path: '/products', body: { name: `行列 ${uniq()}`, price: 100, stock: 1 }, ok: [201] }),
  },
  'PUT /products/:id': {
    access: 'admin',
    make: async () => ({ path: `/products/${product}`, body: { price: 1000 }, ok: [200], stream: product }),
  },
  'DELETE /products/:id': {
    access: 'admin',
    make: async () => {
      const created = await f.a.http.post('/products', { name: `消す ${uniq()}`, price: 100, stock: 0 }, f.admin);
      return { path: `/products/${created.body.id}`, ok: [200], stream: created.body.id };
    },
  },
  'POST /inventory/:product_id/add_stock': {
    access: 'admin',
    make: async () => ({ path: `/inventory/${product}/add_stock`, body: { quantity: 1 }, ok: [200], stream: `inventory-${product}` }),
  },
  'GET /inventory/:product_id': { access: 'admin', make: async () => ({ path: `/inventory/${product}`, ok: [200] }) },
  'GET /inventory': { access: 'admin', make: async () => ({ path: '/inventory', ok: [200] }) },
};

/** What a caller gets for a route of this access class: null = the route's own success. */
function expected(access: Access, who: Who): number | null {
  switch (access) {
    case 'public':
    case 'auth':
      return null;
    case 'user':
      return who === 'anonymous' ? 401 : null;
    case 'owner':
      return who === 'anonymous' ? 401 : who === 'B' ? 404 : null;
    case 'admin':
      return who === 'anonymous' ? 401 : who === 'admin' ? null : 403;
  }
}

const methodOf = (route: string) => route.slice(0, route.indexOf(' '));
const send = (route: string, call: Call, token: string | undefined): Promise<Reply> =>
  call.sse
    ? openStream(call.path, token)
    : f.a.http.call(methodOf(route), call.path, { ...(token ? { token } : {}), ...(call.body !== undefined ? { body: call.body } : {}) });

/** Opens an event stream and closes it once the answer's head is in: a refusal is an ordinary problem body. */
async function openStream(path: string, token: string | undefined): Promise<Reply> {
  const abort = new AbortController();
  const res = await fetch(`${f.a.baseUrl}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: abort.signal });
  if (String(res.headers.get('content-type')).startsWith('text/event-stream')) {
    abort.abort();
    return { status: res.status, headers: res.headers, body: undefined };
  }
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

// Lazily, from the first test: top-level hooks are not ordered after useShop's start on every Node 20 release.
let prepared: Promise<void> | undefined;
const setup = () =>
  (prepared ??= (async () => {
    A = await account();
    B = await account();
    adminAccount = await login(stackSecrets().adminEmail, stackSecrets().adminPassword);
    product = (await f.a.product({ name: `行列商品 ${uniq()}`, price: 1000, stock: 100_000 })).id;
  })());

test('the matrix names every route the api registers', () => {
  const routes = registeredRoutes();
  const missing = routes.filter((r) => !(r in ROUTES));
  const stale = Object.keys(ROUTES).filter((r) => !routes.includes(r));
  assert.deepEqual(missing, [], 'routes without an entry in the auth matrix: add one (who may call it, and a request that succeeds)');
  assert.deepEqual(stale, [], 'entries for routes that no longer exist');
});

for (const [route, spec] of Object.entries(ROUTES)) {
  test(`${route} (${spec.access}): anonymous, customer, another customer, admin`, async () => {
    await setup();
    for (const who of ['anonymous', 'A', 'B', 'admin'] as const) {
      const call = await spec.make(who);
      const before = call.stream ? await version(call.stream) : undefined;
      const res = await send(route, call, tokenOf(who));
      const refusal = expected(spec.access, who);
      const where = `${route} as ${who}`;
      if (refusal === null) {
        assert.ok(call.ok.includes(res.status), `${where} → ${res.status} ${JSON.stringify(res.body)?.slice(0, 300)}`);
      } else {
        assertProblem(res, refusal, where);
        if (call.stream) assert.equal(await version(call.stream), before, `${where}: a refused command changed ${call.stream}`);
      }
    }
  });
}

test('forged and misused access tokens are refused on every route that reads tokens; /auth/* ignores them', async () => {
  await setup();
  const forged = forgeries({ access: A.token, refresh: A.refresh });
  assert.ok(Object.keys(forged).length >= 9);
  const failures: string[] = [];
  for (const [route, spec] of Object.entries(ROUTES)) {
    if (spec.access === 'auth') {
      // Logging in, refreshing and logging out need no access token: a stale one sent along is not read.
      for (const [name, token] of Object.entries(forged)) {
        const call = await spec.make('A');
        const res = await send(route, call, token);
        if (!call.ok.includes(res.status)) failures.push(`${route} with ${name}: ${res.status} ${JSON.stringify(res.body)?.slice(0, 200)}`);
      }
      continue;
    }
    // A request that would succeed for whom the token pretends to be (A, or the admin its edited role claims).
    const call = await spec.make(spec.access === 'admin' ? 'admin' : 'A');
    const before = call.stream ? await version(call.stream) : undefined;
    for (const [name, token] of Object.entries(forged)) {
      const res = await send(route, call, token);
      if (res.status !== 401 || !String(res.headers.get('content-type')).startsWith('application/problem+json')) {
        failures.push(`${route} with ${name}: ${res.status} ${JSON.stringify(res.body)?.slice(0, 200)}`);
      }
    }
    if (call.stream) assert.equal(await version(call.stream), before, `${route}: a forged token changed ${call.stream}`);
  }
  assert.deepEqual(failures, []);
});

test('forged and misused refresh tokens: refresh refuses them all; logout refuses what we did not sign', async () => {
  await setup();
  const fresh = await login(A.email, A.password);
  const claims = decodeJwt(fresh.refresh);
  const now = Math.floor(Date.now() / 1000);
  const cases: Record<string, { token: string; logout: number }> = {
    'an access token': { token: fresh.token, logout: 401 },
    'alg none': {
      token: `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`,
      logout: 401,
    },
    'wrong secret': { token: signJwt(claims, { secret: 'y'.repeat(48) }), logout: 401 },
    'edited subject': {
      token: `${fresh.refresh.split('.')[0]}.${Buffer.from(JSON.stringify({ ...claims, sub: B.user_id })).toString('base64url')}.${fresh.refresh.split('.')[2]}`,
      logout: 401,
    },
    // Well formed but expired: refresh refuses it; logout still ends its family (of another session here).
    expired: { token: signJwt({ ...claims, fam: randomUUID(), iat: now - 7200, exp: now - 60 }), logout: 204 },
    'an unknown family (signed, never issued)': { token: signJwt({ ...claims, fam: randomUUID(), jti: 'never-issued' }), logout: 204 },
    'no family claim': { token: signJwt({ sub: claims.sub, typ: 'refresh', iat: now, exp: now + 600 }), logout: 401 },
  };
  for (const [name, c] of Object.entries(cases)) {
    assertProblem(await f.a.http.post('/auth/refresh', { refresh_token: c.token }), 401, `refresh with ${name}`);
    const out = await f.a.http.post('/auth/logout', { refresh_token: c.token });
    assert.equal(out.status, c.logout, `logout with ${name}: ${JSON.stringify(out.body)}`);
  }
  // None of that touched the real session: its token still rotates.
  assert.equal((await f.a.http.post('/auth/refresh', { refresh_token: fresh.refresh })).status, 200);
});
