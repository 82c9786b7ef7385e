import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { startShop, type ShopProcesses } from './processes.ts';
import { stackEnv, stackSecrets, uniq } from './env.ts';
import { client, eventually, type Reply } from './http.ts';

/** A registered, logged-in customer. */
export interface Customer {
  email: string;
  password: string;
  user_id: string;
  token: string;
}

export interface Mail {
  subject: string;
  text: string;
  to: Array<{ address: string }>;
}

/** `type, title, status, detail` of RFC 9457, served as application/problem+json. */
export function assertProblem(res: Reply, status?: number, what = ''): void {
  const where = `${what} → ${res.status} ${JSON.stringify(res.body)?.slice(0, 500)}`;
  if (status !== undefined) assert.equal(res.status, status, where);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/, where);
  assert.equal(typeof res.body, 'object', where);
  assert.equal(typeof res.body.type, 'string', where);
  assert.equal(typeof res.body.title, 'string', where);
  assert.equal(res.body.status, res.status, where);
  assert.equal(typeof res.body.detail, 'string', where);
  assert.ok(res.body.detail.length > 0, where);
}

/** The journeys' vocabulary over one shop's HTTP API: who is who, what exists, what was mailed. */
export function shopActors(baseUrl: string) {
  const http = client(baseUrl);
  let adminToken: Promise<string> | undefined;

  /**
   * Logins and registrations share a bounded queue of password hashes (503 password_checks_busy with
   * Retry-After beyond it). Fixtures that make many users at once wait as a well-behaved client would; the
   * refusal itself is tested in security.test.ts.
   */
  async function patiently(path: string, body: unknown) {
    for (let attempt = 0; ; attempt++) {
      const res = await http.post(path, body);
      if (res.status !== 503 || res.body?.code !== 'password_checks_busy' || attempt >= 30) return res;
      await new Promise((r) => setTimeout(r, 1000 * Number(res.body.retry_after ?? 1) * (0.5 + Math.random())));
    }
  }

  async function login(email: string, password: string): Promise<{ token: string; user_id: string }> {
    const res = await patiently('/auth/login', { email, password });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return { token: res.body.access_token, user_id: res.body.user.user_id };
  }

  return {
    http,
    baseUrl,
    login,
    /** Logs the seeded admin in once per file (login is rate limited per account). */
    admin: (): Promise<string> => (adminToken ??= login(stackSecrets().adminEmail, stackSecrets().adminPassword).then((l) => l.token)),

    async customer(name = '山田 太郎'): Promise<Customer> {
      const email = `${uniq('c')}@example.com`;
      const password = 'correct horse battery';
      const registered = await patiently('/auth/register', { email, password, name });
      assert.equal(registered.status, 201, JSON.stringify(registered.body));
      const { token, user_id } = await login(email, password);
      return { email, password, user_id, token };
    },

    /** Creates a product as admin and waits until the read model shows it. */
    async product(fields: { name?: string; description?: string; price?: number; stock?: number; category?: string } = {}): Promise<any> {
      const admin = await adminToken!;
      const body = { name: `商品 ${uniq()}`, description: '', price: 1000, stock: 10, ...fields };
      const created = await http.post('/products', body, admin);
      assert.equal(created.status, 201, JSON.stringify(created.body));
      // One read-your-writes wait is bounded (3 s); on a loaded machine the projector may take longer, so ask again.
      await eventually(async () => (await http.get(`/products/${created.body.id}?min_version=${created.body.version}`)).status === 200, {
        timeoutMs: 30_000,
        what: `product ${created.body.id} in the read model`,
      });
      return created.body;
    },

    async addToCart(token: string, productId: string, quantity: number): Promise<any> {
      const res = await http.post('/cart/items', { product_id: productId, quantity }, token);
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body;
    },

    /** Fills the cart with `lines` and checks out: the 201 answer. */
    async order(customer: Customer, lines: Array<[productId: string, quantity: number]>): Promise<any> {
      for (const [productId, quantity] of lines) await this.addToCart(customer.token, productId, quantity);
      const res = await http.post('/orders', undefined, customer.token);
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body;
    },

    /** The inventory as the read model shows it once it reflects `version` of the stream. */
    async inventory(productId: string, version: number): Promise<any> {
      const res = await http.get(`/inventory/${productId}?min_version=${version}`, await adminToken!);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.headers.get('x-read-model-behind'), null, `inventory of ${productId} did not reach version ${version}`);
      return res.body;
    },

    /** The stream as the event store has it (admin): `{ version, events }`. */
    async stream(aggregateId: string): Promise<{ version: number; events: any[] }> {
      const res = await http.get(`/events/${aggregateId}`, await adminToken!);
      if (res.status === 404) return { version: 0, events: [] };
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body;
    },
  };
}

export type ShopActors = ReturnType<typeof shopActors>;

/** Every mail MailDev received for this address. */
export async function mailsTo(address: string): Promise<Mail[]> {
  const res = await fetch(`${stackEnv().maildevUrl}/email`);
  assert.equal(res.status, 200);
  const all = (await res.json()) as Mail[];
  return all.filter((m) => m.to.some((t) => t.address === address));
}

/** Waits until `predicate` holds for the address's mails, then returns them. */
export async function waitForMails(address: string, predicate: (mails: Mail[]) => boolean, what: string): Promise<Mail[]> {
  return eventually(
    async () => {
      const mails = await mailsTo(address);
      return predicate(mails) ? mails : undefined;
    },
    { what, timeoutMs: 20_000, intervalMs: 200 },
  );
}

/** The mails about one order whose subject names `kind` (subjects: 【EC Shop】<kind>（注文番号 <order_id>）). */
export const mailsAbout = (mails: Mail[], orderId: string, kind: string): Mail[] =>
  mails.filter((m) => m.subject.includes(orderId) && m.subject.includes(kind));

/** The shop of one test file: real processes started before its tests and stopped after them, plus the admin. */
export interface ShopFixture {
  shop: ShopProcesses;
  a: ShopActors;
  admin: string;
}

export function useShop(ready: (fixture: ShopFixture) => void, opts?: Parameters<typeof startShop>[0]): void {
  let shop: ShopProcesses | undefined;
  before(async () => {
    shop = await startShop(opts);
    const a = shopActors(shop.baseUrl);
    ready({ shop, a, admin: await a.admin() });
  });
  after(async () => {
    await shop?.stop();
  });
}
