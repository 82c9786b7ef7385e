/**
 * The session in a real browser against the final auth (issue #9): refresh tokens rotate and a spent one
 * presented again revokes the whole session, so the SPA must never present one — not from two tabs refreshing
 * at the same moment either. This file's api issues access tokens that live 10 s (JWT_ACCESS_TTL_SECONDS, its
 * minimum), so a test of a minute goes through many rotations.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { Page, Request } from 'playwright-core';
import { assertText, go, loginThroughForm, openPerson, storedSession, type Person } from '../support/browser.ts';
import { stackSecrets, uniq } from '../support/env.ts';
import { eventually } from '../support/http.ts';
import { useShop, type ShopFixture } from '../support/shop.ts';

const TTL_SECONDS = 10;

let f: ShopFixture;
useShop((fixture) => (f = fixture), { env: { JWT_ACCESS_TTL_SECONDS: String(TTL_SECONDS) }, kinds: ['api', 'projector'] });

const people: Person[] = [];
after(async () => {
  await Promise.allSettled(people.map((p) => p.close()));
});

const token = uniq('').replace(/[^a-z0-9]/g, '');
const header = (page: Page) => page.getByRole('banner');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every POST /auth/refresh the browser sends: the refresh token it presented and the status it got. */
function recordRefreshes(person: Person) {
  const sent: Array<{ token: string; status?: number }> = [];
  const byRequest = new Map<Request, { token: string; status?: number }>();
  person.context.on('request', (req) => {
    if (req.method() !== 'POST' || !req.url().endsWith('/auth/refresh')) return;
    const entry = { token: (JSON.parse(req.postData() ?? '{}') as { refresh_token?: string }).refresh_token ?? '' };
    sent.push(entry);
    byRequest.set(req, entry);
  });
  person.context.on('response', (res) => {
    const entry = byRequest.get(res.request());
    if (entry) entry.status = res.status();
  });
  return sent;
}

async function customerInBrowser(name: string): Promise<{ person: Person; email: string; password: string }> {
  const email = `${uniq('tab')}@example.com`;
  const password = 'correct horse battery';
  const registered = await f.a.http.post('/auth/register', { email, password, name });
  assert.equal(registered.status, 201, JSON.stringify(registered.body));
  const person = await openPerson(f.shop.baseUrl, name);
  people.push(person);
  await loginThroughForm(person.page, email, password);
  return { person, email, password };
}

test('log-out revokes the session on the server: the old refresh token is refused, and every tab is logged out', async () => {
  const { person } = await customerInBrowser('ログアウト 確認');
  const second = await person.newTab();
  await go(second, '/orders', '注文履歴');
  await assertText(header(second).getByTestId('current-user'), 'ログアウト 確認');

  const session = await storedSession(person.page);
  assert.ok(session);
  await header(person.page).getByRole('button', { name: 'ログアウト' }).click();
  await person.page.getByRole('heading', { level: 1, name: 'ログイン' }).waitFor();
  const refused = await f.a.http.post('/auth/refresh', { refresh_token: session.refresh_token });
  assert.equal(refused.status, 401, JSON.stringify(refused.body));
  // The other tab follows (storage event): no user in its header, and its page asks for a login.
  await header(second).getByRole('link', { name: 'ログイン' }).waitFor();
  await second.getByRole('heading', { level: 1, name: 'ログイン' }).waitFor();
  assert.equal(await storedSession(second), null);
  person.assertClean();
});

test('two tabs stay logged in across many refresh-token rotations, refreshing at the same moments, and never present a spent token', async (t) => {
  // Not f.a.product(): the fixture's admin token is older than this api's 10 s access tokens live.
  const { token: adminToken } = await f.a.login(stackSecrets().adminEmail, stackSecrets().adminPassword);
  const created = await f.a.http.post('/products', { name: `急須 ${token}`, description: '', price: 4500, stock: 1000 }, adminToken);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const product = created.body as { id: string; name: string };
  await eventually(async () => (await f.a.http.get(`/products/${product.id}`)).status === 200, {
    what: 'the product in the read model',
    timeoutMs: 30_000,
  });
  const { person } = await customerInBrowser('二つのタブ');
  const sent = recordRefreshes(person);
  const tab1 = person.page;
  const tab2 = await person.newTab();
  await go(tab2, '/orders', '注文履歴');
  await assertText(header(tab2).getByTestId('current-user'), '二つのタブ');

  // Each round: wait until the stored access token is due for refresh, then make both tabs need it at once —
  // one adds to the cart (a command), the other reloads (a fresh page reading the session from storage).
  const rounds = 5;
  for (let round = 0; round < rounds; round++) {
    const s = await storedSession(tab1);
    assert.ok(s, `round ${round}: still logged in`);
    const due = (s.refresh_at ?? s.access_expires_at - 60_000) - Date.now();
    await sleep(Math.max(0, due) + 200);
    await Promise.all([
      (async () => {
        await go(tab1, `/products/${product.id}`, product.name);
        await tab1.getByRole('button', { name: `${product.name} をカートに追加` }).click();
        await tab1.getByRole('status').filter({ hasText: '追加しました' }).waitFor();
      })(),
      (async () => {
        await tab2.reload();
        await tab2.getByRole('heading', { level: 1, name: '注文履歴' }).waitFor();
      })(),
    ]);
    await assertText(header(tab1).getByTestId('current-user'), '二つのタブ');
    await assertText(header(tab2).getByTestId('current-user'), '二つのタブ');
  }
  // And in between, busy at random: both tabs keep working while tokens expire under them.
  const until = Date.now() + 2.5 * TTL_SECONDS * 1000;
  await Promise.all(
    [tab1, tab2].map(async (tab, i) => {
      while (Date.now() < until) {
        await go(tab, i === 0 ? '/cart' : '/orders', i === 0 ? 'カート' : '注文履歴');
        await sleep(300 + Math.random() * 900);
      }
    }),
  );

  await eventually(async () => sent.every((r) => r.status !== undefined), { what: 'every refresh answered' });
  t.diagnostic(`${sent.length} refreshes over ${rounds} rounds and ${2.5 * TTL_SECONDS} s of traffic`);
  assert.ok(sent.length >= rounds, `the tokens rotated at least ${rounds} times (${sent.length})`);
  assert.deepEqual(
    sent.filter((r) => r.status !== 200),
    [],
    'every refresh succeeded',
  );
  assert.equal(new Set(sent.map((r) => r.token)).size, sent.length, 'no refresh token was presented twice');

  // Still one live session: both tabs show the user, the cart has every unit added, and the stored refresh
  // token is the family's newest (the api rotates it, rather than answering 401 reuse or revoked).
  for (const tab of [tab1, tab2]) await assertText(header(tab).getByTestId('current-user'), '二つのタブ');
  await go(tab1, '/cart', 'カート');
  await assertText(header(tab1).getByRole('link', { name: /カート/ }), String(rounds));
  await header(tab1).getByText('ライブ').waitFor();
  person.assertClean();
  const latest = await storedSession(tab2);
  assert.ok(latest);
  await person.close();
  const rotated = await f.a.http.post('/auth/refresh', { refresh_token: latest.refresh_token });
  assert.equal(rotated.status, 200, `the session survived: ${JSON.stringify(rotated.body)}`);
});
