import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { stackEnv, stackSecrets, uniq } from '../support/env.ts';
import { client, eventually } from '../support/http.ts';
import { startShop, type ShopProcesses } from '../support/processes.ts';

// Issue #3's slice, through HTTP against the real processes: login → product → cart → order → mail.
let shop: ShopProcesses;
let http: ReturnType<typeof client>;

before(async () => {
  shop = await startShop();
  http = client(shop.baseUrl);
});
after(async () => {
  await shop?.stop();
});

async function login(email: string, password: string): Promise<string> {
  const res = await http.post('/auth/login', { email, password });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.access_token;
}

async function mailsTo(address: string): Promise<Array<{ subject: string; text: string; headers: Record<string, string> }>> {
  const res = await fetch(`${stackEnv().maildevUrl}/email`);
  const all = (await res.json()) as Array<{
    subject: string;
    text: string;
    headers: Record<string, string>;
    to: Array<{ address: string }>;
  }>;
  return all.filter((m) => m.to.some((t) => t.address === address));
}

test('the walking skeleton: admin creates a product, a customer orders it, the order is pending and mailed once', async () => {
  const admin = await login(stackSecrets().adminEmail, stackSecrets().adminPassword);

  const email = `${uniq('buyer')}@example.com`;
  const registered = await http.post('/auth/register', { email, password: 'correct horse', name: '山田 太郎' });
  assert.equal(registered.status, 201, JSON.stringify(registered.body));
  const customer = await login(email, 'correct horse');

  const created = await http.post('/products', { name: `Tシャツ ${uniq()}`, description: '綿100%', price: 2000, stock: 3 }, admin);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const productId: string = created.body.id;
  assert.equal(typeof created.body.version, 'number');

  // Read-your-writes: no sleeping, the query waits for the projector.
  const product = await http.get(`/products/${productId}?min_version=${created.body.version}`);
  assert.equal(product.status, 200, JSON.stringify(product.body));
  assert.equal(product.body.name, created.body.name);
  assert.equal(product.body.price, 2000);
  const listed = await http.get(`/products?wait_for=${productId}:${created.body.version}&limit=100`);
  assert.ok(
    listed.body.items.some((p: { id?: string; product_id?: string }) => (p.id ?? p.product_id) === productId),
    'the new product is listed',
  );

  // Customers cannot create products.
  assert.equal((await http.post('/products', { name: 'x', description: '', price: 1, stock: 1 }, customer)).status, 403);

  const added = await http.post('/cart/items', { product_id: productId, quantity: 2 }, customer);
  assert.equal(added.status, 201, JSON.stringify(added.body));
  const cart = await http.get(`/cart?min_version=${added.body.version}`, customer);
  assert.equal(cart.status, 200);
  assert.equal(cart.body.items.length, 1);
  assert.equal(cart.body.items[0].quantity, 2);
  assert.equal(cart.body.total, 4000);

  const order = await http.post('/orders', undefined, customer);
  assert.equal(order.status, 201, JSON.stringify(order.body));
  assert.equal(order.body.status, 'pending');
  assert.equal(order.body.total, 4000);
  assert.ok(Date.parse(order.body.expires_at) > Date.now());

  const shown = await http.get(`/orders/${order.body.order_id}?min_version=${order.body.version}`, customer);
  assert.equal(shown.status, 200, JSON.stringify(shown.body));
  assert.equal(shown.body.status, 'pending');

  // The cart was cleared by the same transaction; only 1 left in stock now.
  assert.equal((await http.post('/cart/items', { product_id: productId, quantity: 1 }, customer)).status, 201);
  const tooMuch = await http.post('/cart/items', { product_id: productId, quantity: 1 }, customer);
  assert.equal(tooMuch.status, 409);
  assert.equal(tooMuch.headers.get('content-type'), 'application/problem+json; charset=utf-8');
  assert.equal(tooMuch.body.detail, 'insufficient stock: available=1, requested=2');

  const mails = await eventually(
    async () => {
      const found = await mailsTo(email);
      return found.length > 0 ? found : undefined;
    },
    { what: 'the order confirmation mail' },
  );
  assert.equal(mails.length, 1);
  assert.match(mails[0]!.subject, /注文/);
  assert.match(mails[0]!.text, /4,000/);
});

test('checkout conflicts: insufficient stock at checkout is a 409 problem and nothing is reserved', async () => {
  const admin = await login(stackSecrets().adminEmail, stackSecrets().adminPassword);
  const created = await http.post('/products', { name: `在庫1 ${uniq()}`, description: '', price: 500, stock: 1 }, admin);
  const productId = created.body.id;
  const buyers = await Promise.all(
    [1, 2].map(async (i) => {
      const email = `${uniq(`b${i}`)}@example.com`;
      await http.post('/auth/register', { email, password: 'password123', name: `buyer ${i}` });
      const token = await login(email, 'password123');
      assert.equal((await http.post('/cart/items', { product_id: productId, quantity: 1 }, token)).status, 201);
      return token;
    }),
  );
  const results = await Promise.all(buyers.map((t) => http.post('/orders', undefined, t)));
  const statuses = results.map((r) => r.status).sort();
  assert.deepEqual(statuses, [201, 409], JSON.stringify(results.map((r) => r.body)));
  const refused = results.find((r) => r.status === 409)!;
  assert.equal(refused.body.detail, 'insufficient stock: available=0, requested=1');
  const inventory = await http.get(`/inventory/${productId}?min_version=2`, admin);
  assert.equal(inventory.body.reserved_quantity, 1);
  assert.equal(inventory.body.available_quantity, 0);
});
