import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { Page } from 'playwright-core';
import { freePort, waitForPort } from '../../src/devstack/process.ts';
import { assertText, go, loginThroughForm, openPerson, screenshotDir, shoot, storedSession, type Person } from '../support/browser.ts';
import { stackSecrets, uniq } from '../support/env.ts';
import { client, eventually } from '../support/http.ts';
import { useShop, type ShopFixture } from '../support/shop.ts';

// The SPA in a real headless Chromium against the real api, projector, notifier and worker (issue #8).
let f: ShopFixture;
useShop((fixture) => (f = fixture));

let dir: string;
const people: Person[] = [];
let customer: Person;
let admin: Person;
/** A word no other product has: searches must find exactly what they should. */
const token = uniq('').replace(/[^a-z0-9]/g, '');
const shared: { orderId?: string; adminProductName?: string } = {};

// Lazily, from the first test: root-level hooks are not ordered after useShop's on every Node version.
let opened: Promise<void> | undefined;
const browsers = () =>
  (opened ??= (async () => {
    dir = screenshotDir();
    customer = await openPerson(f.shop.baseUrl, 'customer');
    admin = await openPerson(f.shop.baseUrl, 'admin');
    people.push(customer, admin);
  })());

after(async () => {
  await Promise.all(people.map((p) => p.close()));
});

const header = (page: Page) => page.getByRole('banner');
const nav = (page: Page) => page.getByRole('navigation', { name: 'メイン' });

test('a customer registers, logs in, searches in Japanese and English, checks out, pays and sees the order change live', async () => {
  await browsers();
  const { page } = customer;
  const matcha = await f.a.product({
    name: `宇治抹茶ラテ ${token}`,
    description: `Uji matcha latte, 京都府産の抹茶を使用 ${token}`,
    price: 1280,
    stock: 10,
  });
  const hojicha = await f.a.product({ name: `ほうじ茶 ${token}`, description: `roasted green tea ${token}`, price: 640, stock: 10 });

  await go(page, '/products', '商品一覧');
  await page.getByRole('link', { name: matcha.name }).waitFor();
  await shoot(page, dir, '01-products');

  // Register through the form: the app logs the new customer in and shows who they are.
  await header(page).getByRole('link', { name: 'ログイン' }).click();
  await page.getByRole('heading', { level: 1, name: 'ログイン' }).waitFor();
  await shoot(page, dir, '02-login');
  await page.getByRole('link', { name: '新規登録' }).click();
  await page.getByRole('heading', { level: 1, name: '新規登録' }).waitFor();
  const email = `${uniq('hanako')}@example.com`;
  const password = 'correct horse battery';
  await page.getByLabel('お名前').fill('佐藤 花子');
  await page.getByLabel('メールアドレス').fill(email);
  await page.getByLabel('パスワード').fill(password);
  await page.getByRole('button', { name: '登録してログイン' }).click();
  await page.getByRole('heading', { level: 1, name: '商品一覧' }).waitFor();
  await assertText(page.getByTestId('current-user'), /佐藤 花子\s*顧客/);

  // Log out: the server revokes the session (the old refresh token is refused), the browser forgets it.
  const before = await storedSession(page);
  assert.ok(before, 'a session while logged in');
  await header(page).getByRole('button', { name: 'ログアウト' }).click();
  await page.getByRole('heading', { level: 1, name: 'ログイン' }).waitFor();
  assert.equal(await storedSession(page), null, 'logging out forgets the tokens');
  const refused = await f.a.http.post('/auth/refresh', { refresh_token: before.refresh_token });
  assert.equal(refused.status, 401, `the logged-out refresh token is refused: ${JSON.stringify(refused.body)}`);
  // Fail once with a wrong password (the api's detail is shown), then log in.
  await page.getByLabel('メールアドレス').fill(email);
  await page.getByLabel('パスワード').fill('wrong password');
  await page.getByRole('button', { name: 'ログイン', exact: true }).click();
  await assertText(page.getByRole('alert'), 'invalid email or password');
  await page.getByLabel('パスワード').fill(password);
  await page.getByRole('button', { name: 'ログイン', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: '商品一覧' }).waitFor();
  await assertText(page.getByTestId('current-user'), '佐藤 花子');
  await header(page).getByText('ライブ').waitFor();

  // Full-text search, Japanese and English, each finding what it should and not the other product.
  const search = async (q: string) => {
    await page.getByLabel('商品を検索').fill(q);
    await page.getByRole('button', { name: '検索' }).click();
    await page.getByText(`「${q}」の検索結果`).waitFor();
  };
  await search(`抹茶 ${token}`);
  await page.getByRole('link', { name: matcha.name }).waitFor();
  assert.equal(await page.getByRole('link', { name: hojicha.name }).count(), 0, 'the Japanese search does not find ほうじ茶');
  await shoot(page, dir, '03-search-japanese');
  await search(`roasted ${token}`);
  await page.getByRole('link', { name: hojicha.name }).waitFor();
  assert.equal(await page.getByRole('link', { name: matcha.name }).count(), 0, 'the English search does not find the matcha');

  // The product page: add two to the cart; the header's count follows.
  await search(`matcha ${token}`);
  await page.getByRole('link', { name: matcha.name }).click();
  await page.getByRole('heading', { level: 1, name: matcha.name }).waitFor();
  await page.getByLabel(`${matcha.name} の数量`, { exact: true }).fill('2');
  await page.getByRole('button', { name: `${matcha.name} をカートに追加` }).click();
  await page.getByRole('status').filter({ hasText: '追加しました' }).waitFor();
  await assertText(nav(page).getByRole('link', { name: /カート/ }), /2/);
  await shoot(page, dir, '04-product');

  // A reload keeps the session.
  await page.reload();
  await page.getByRole('heading', { level: 1, name: matcha.name }).waitFor();
  await assertText(page.getByTestId('current-user'), '佐藤 花子');

  await nav(page)
    .getByRole('link', { name: /カート/ })
    .click();
  await page.getByRole('heading', { level: 1, name: 'カート' }).waitFor();
  await assertText(page.getByTestId('cart-total'), '2,560');
  await shoot(page, dir, '05-cart');
  await page.getByRole('button', { name: '注文を確定する' }).click();
  await page.getByRole('heading', { level: 1, name: /注文/ }).waitFor();
  await assertText(page.locator('.order-status'), '支払い待ち');
  await assertText(page.locator('.deadline'), /支払期限.*あと 1[45] 分/);
  const orderId = (await page.locator('.order-id').textContent())!.trim();
  shared.orderId = orderId;
  await page.getByRole('listitem').filter({ hasText: 'OrderPlaced' }).waitFor();
  await shoot(page, dir, '06-order-pending');

  await page.getByRole('button', { name: /2,560.*を支払う/ }).click();
  await assertText(page.locator('.order-status'), '支払い済み');
  await assertText(nav(page).getByRole('link', { name: /カート/ }), /0/);

  // The admin ships it elsewhere: the customer's page shows it without a reload, pushed over GET /live.
  await page.evaluate(() => ((globalThis as unknown as { notReloaded: boolean }).notReloaded = true));
  const tracking = `JP${token.slice(-8).toUpperCase()}`;
  const shipped = await f.a.http.post(`/orders/${orderId}/ship`, { tracking_number: tracking }, f.admin);
  assert.equal(shipped.status, 200, JSON.stringify(shipped.body));
  await assertText(page.locator('.order-status'), '発送済み');
  await assertText(page.getByTestId('tracking-number'), tracking);
  await page.getByRole('listitem').filter({ hasText: 'OrderShipped' }).waitFor();
  assert.equal(
    await page.evaluate(() => (globalThis as unknown as { notReloaded?: boolean }).notReloaded),
    true,
    'the status changed without a reload',
  );
  await shoot(page, dir, '07-order-shipped-live');

  await nav(page).getByRole('link', { name: '注文履歴' }).click();
  await page.getByRole('heading', { level: 1, name: '注文履歴' }).waitFor();
  await assertText(page.locator(`tr[data-order-id="${orderId}"]`), '発送済み');
  await shoot(page, dir, '08-orders');

  // Credentials never appear on the page.
  const session = JSON.parse(
    (await page.evaluate(() =>
      (globalThis as unknown as { localStorage: { getItem(k: string): string | null } }).localStorage.getItem('ec-shop.session'),
    ))!,
  ) as { access_token: string; refresh_token: string };
  const html = await page.content();
  assert.ok(
    !html.includes(session.access_token) &&
      !html.includes(session.refresh_token) &&
      !html.includes(password) &&
      !html.includes(stackSecrets().adminPassword),
    'no credentials in the page',
  );
  assertCleanWithLogs(customer);
});

test('an admin creates a category and a product through the forms, adds stock, sees the reservation, ships and delivers', async () => {
  await browsers();
  const { page } = admin;
  await loginThroughForm(page, stackSecrets().adminEmail, stackSecrets().adminPassword);
  await assertText(page.getByTestId('current-user'), '管理者');

  await go(page, '/admin', '管理');
  const menu = page.getByRole('navigation', { name: '管理メニュー' });
  await menu.getByRole('link', { name: 'カテゴリ' }).click();
  const category = `日本茶 ${token}`;
  await page.getByLabel('カテゴリ名').fill(category);
  await page.getByRole('button', { name: 'カテゴリを追加' }).click();
  await page.getByRole('status').filter({ hasText: category }).waitFor();
  await page.getByRole('listitem').filter({ hasText: category }).waitFor();

  await menu.getByRole('link', { name: '商品' }).click();
  const name = `静岡深蒸し煎茶 ${token}`;
  shared.adminProductName = name;
  const form = page.locator('form', { has: page.getByRole('heading', { name: '商品を登録' }) });
  await form.getByLabel('商品名').fill(name);
  await form.getByLabel('説明').fill('香り高い深蒸し煎茶 100g');
  await form.getByLabel('初期在庫').fill('3');
  await form.getByLabel('カテゴリ').selectOption({ label: category });
  // A bad price is refused by the api; its detail is shown at the form.
  await form.getByLabel('価格（円）').fill('12.5');
  await form.getByRole('button', { name: '商品を登録' }).click();
  await assertText(form.getByRole('alert'), /price/);
  await form.getByLabel('価格（円）').fill('980');
  await form.getByRole('button', { name: '商品を登録' }).click();
  await form.getByRole('status').filter({ hasText: '登録しました' }).waitFor();
  await page.getByRole('listitem').filter({ hasText: name }).getByText(category).waitFor();
  await shoot(page, dir, '09-admin-products');

  const products = await f.a.http.get(`/products?q=${encodeURIComponent(name)}`);
  const product = products.body.items.find((p: { name: string }) => p.name === name);
  assert.ok(product, 'the product created through the form exists');
  assert.equal(product.price, 980);
  assert.equal(product.category_name, category);

  await menu.getByRole('link', { name: '在庫と引当' }).click();
  await page.getByLabel('商品名で絞り込み').fill(name);
  const row = page.locator(`tr[data-product-id="${product.id}"]`);
  await assertText(row.locator('td').nth(0), '3');
  await page.getByLabel(`${name} の入荷数`).fill('5');
  await page.getByRole('button', { name: `${name} を入荷` }).click();
  await assertText(row.locator('td').nth(0), '8');

  // A customer orders two elsewhere: the reservation appears in the admin's table by itself (live).
  const buyer = await f.a.customer('鈴木 一郎');
  const order = await f.a.order(buyer, [[product.id, 2]]);
  await row.getByRole('link', { name: `注文 ${order.order_id}` }).waitFor();
  await assertText(row.locator('td').nth(1), '2');
  await assertText(row.locator('td').nth(2), '6');
  await shoot(page, dir, '10-admin-inventory');

  const paid = await f.a.http.post(`/orders/${order.order_id}/pay`, undefined, buyer.token);
  assert.equal(paid.status, 200);
  await menu.getByRole('link', { name: '注文' }).click();
  await page.getByLabel('状態').selectOption({ label: '支払い済み' });
  const orderRow = page.locator(`tr[data-order-id="${order.order_id}"]`);
  await page.getByLabel(`注文 ${order.order_id} の追跡番号`).fill('YMT-123456');
  await page.getByRole('button', { name: `注文 ${order.order_id} を発送` }).click();
  await page.getByLabel('状態').selectOption({ label: 'すべて' });
  await assertText(orderRow.locator('.badge'), '発送済み');
  await assertText(orderRow, 'YMT-123456');
  await shoot(page, dir, '11-admin-orders');
  await page.getByRole('button', { name: `注文 ${order.order_id} を配達完了にする` }).click();
  await assertText(orderRow.locator('.badge'), '配達完了');
  const delivered = await f.a.http.get(`/orders/${order.order_id}?min_version=4`, buyer.token);
  assert.equal(delivered.body.status, 'delivered');

  // A screen can be a moment behind: the customer cancels the paid order just as the admin ships it. The api
  // refuses (409) and the admin sees its detail; then the row shows the cancel and the refund, and no ship form.
  const late = await f.a.order(buyer, [[product.id, 1]]);
  assert.equal((await f.a.http.post(`/orders/${late.order_id}/pay`, undefined, buyer.token)).status, 200);
  // The unfiltered list: the row stays on screen when its status changes (a status filter would drop it).
  await page.getByLabel('状態').selectOption({ label: 'すべて' });
  await page.getByLabel(`注文 ${late.order_id} の追跡番号`).fill('YMT-999999');
  await page.route(`**/orders/${late.order_id}/ship`, async (route) => {
    const cancelled = await f.a.http.post(`/orders/${late.order_id}/cancel`, { reason: '気が変わった' }, buyer.token);
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
    await route.continue();
  });
  await page.getByRole('button', { name: `注文 ${late.order_id} を発送` }).click();
  const lateRow = page.locator(`tr[data-order-id="${late.order_id}"]`);
  await assertText(lateRow.getByRole('alert'), 'cannot ship an order that is cancelled');
  await page.unroute(`**/orders/${late.order_id}/ship`);
  await assertText(lateRow.locator('.badge'), 'キャンセル');
  await assertText(lateRow, '返金');
  await shoot(page, dir, '11b-admin-ship-refused');
  assert.equal(await page.getByRole('button', { name: `注文 ${late.order_id} を発送` }).count(), 0, 'no ship form for a cancelled order');

  await menu.getByRole('link', { name: '統計' }).click();
  await page.getByRole('heading', { name: '注文統計' }).waitFor();
  await shoot(page, dir, '12-admin-stats');
  assertCleanWithLogs(admin);
});

test('the event log, a stream with time travel, the saga log, the dashboard and ops render with data', async () => {
  await browsers();
  const { page } = admin;
  const orderId = shared.orderId;
  assert.ok(orderId, 'the customer journey ran first');

  await go(page, '/events', 'イベントログ');
  await page.locator('table.events tbody tr').first().waitFor();
  await page.getByLabel('イベント種別').selectOption('OrderPlaced');
  await eventually(
    async () => {
      const types = await page.locator('table.events tbody tr td:nth-child(2) strong').allTextContents();
      return types.length > 0 && types.every((t) => t === 'OrderPlaced');
    },
    { what: 'only OrderPlaced rows' },
  );
  await shoot(page, dir, '13-events');

  // Open the customer's order stream and travel back to its first version.
  await page.getByLabel('集約 ID').fill(orderId);
  await page.getByRole('button', { name: 'ストリームを開く' }).click();
  await page.getByRole('heading', { level: 1, name: /ストリーム/ }).waitFor();
  await assertText(page.getByTestId('travel-version'), 'v3 / v3');
  await assertText(page.locator('.time-travel pre.json').first(), '"status": "shipped"');
  const slider = page.getByRole('slider', { name: 'バージョン' });
  await slider.focus();
  await page.keyboard.press('Home');
  await assertText(page.getByTestId('travel-version'), 'v1 / v3');
  await assertText(page.locator('.time-travel pre.json').first(), '"status": "pending"');
  await page.keyboard.press('ArrowRight');
  await assertText(page.getByTestId('travel-version'), 'v2 / v3');
  await assertText(page.locator('.time-travel pre.json').first(), '"status": "paid"');
  await shoot(page, dir, '14-stream-time-travel');

  // The reservation-expiry saga: an api whose orders hold stock for 2 s; this shop's worker expires them.
  const port = await freePort();
  const fast = f.shop.spawn('api', { PORT: String(port), RESERVATION_TTL_SECONDS: '2' });
  let expiredOrder: string;
  try {
    await waitForPort(port, '127.0.0.1', 60_000, fast.exited);
    const product = await f.a.product({ name: `期限切れテスト ${token}`, price: 500, stock: 3 });
    const late = await f.a.customer('期限 切子');
    await f.a.addToCart(late.token, product.id, 1);
    const placed = await client(`http://127.0.0.1:${port}`).post('/orders', undefined, late.token);
    assert.equal(placed.status, 201, JSON.stringify(placed.body));
    expiredOrder = placed.body.order_id;
    await eventually(async () => (await f.a.http.get(`/orders/${expiredOrder}`, late.token)).body.status === 'cancelled', {
      what: 'the expired order',
      timeoutMs: 30_000,
      intervalMs: 250,
    });
  } finally {
    await fast.stop();
  }
  await go(page, '/sagas', 'Saga ログ');
  const saga = page.locator(`li[data-saga-id="${expiredOrder}"]`);
  await assertText(saga, '支払期限');
  await assertText(saga, '期限切れで取消');
  await assertText(saga, '完了');
  await shoot(page, dir, '15-sagas');

  await go(page, '/dashboard', 'マーケティング ダッシュボード');
  await eventually(async () => !/￥0$/.test((await page.getByTestId('kpi-revenue').textContent()) ?? ''), { what: 'revenue above zero' });
  assert.equal(await page.locator('.chart canvas').count(), 4, 'four charts');
  const popular = page.getByRole('region', { name: '商品の人気（販売数）' });
  await popular.getByText('データを表で見る').click();
  await popular.getByRole('cell', { name: `宇治抹茶ラテ ${token}` }).waitFor();
  await page.waitForTimeout(300);
  await shoot(page, dir, '16-dashboard');

  await go(page, '/ops', '運用');
  await page.getByRole('heading', { name: /projector/ }).waitFor();
  await page.getByRole('heading', { name: /email-notifier/ }).waitFor();
  await page.getByRole('heading', { name: /fulfillment/ }).waitFor();
  await page.getByText(/PostgreSQL（リードモデル）: 正常/).waitFor();
  await page.getByTestId('dlq-total').waitFor();
  await page.getByRole('link', { name: /メール受信箱/ }).waitFor();
  await shoot(page, dir, '17-ops');
  assertCleanWithLogs(admin);
});

test('a customer gets no admin controls, and an insufficient-stock refusal is shown on its cart line', async () => {
  await browsers();
  const { page } = customer;
  for (const [route, heading] of [
    ['/admin', '管理'],
    ['/events', 'イベントログ'],
    ['/sagas', 'Saga ログ'],
    ['/dashboard', 'ダッシュボード'],
    ['/ops', '運用'],
  ]) {
    await page.goto(`/#${route}`);
    await page.getByRole('heading', { level: 1, name: 'このページは管理者専用です' }).waitFor();
    assert.equal(
      await page.getByRole('heading', { level: 1, name: heading, exact: true }).count(),
      0,
      `${route} shows none of its own screen`,
    );
  }
  assert.equal(await page.getByRole('button', { name: '商品を登録' }).count(), 0);
  assert.equal(await nav(page).getByRole('link', { name: '管理' }).count(), 0, 'no admin link in the menu');
  await shoot(page, dir, '18-customer-forbidden');

  // Two in the cart, then someone else buys one of the two in stock: checkout is refused for that line.
  const scarce = await f.a.product({ name: `限定 玉露 ${token}`, description: 'gyokuro', price: 3000, stock: 2 });
  const other = await f.a.product({ name: `煎茶ティーバッグ ${token}`, price: 500, stock: 20 });
  await go(page, `/products?q=${encodeURIComponent(token)}`, '商品一覧');
  await page.getByLabel(`${scarce.name} の数量`, { exact: true }).fill('2');
  await page.getByRole('button', { name: `${scarce.name} をカートに追加` }).click();
  await page.getByRole('listitem').filter({ hasText: scarce.name }).getByRole('status').waitFor();
  await page.getByRole('button', { name: `${other.name} をカートに追加` }).click();
  await page.getByRole('listitem').filter({ hasText: other.name }).getByRole('status').waitFor();
  // More than there is, straight from the product list: refused next to the button.
  await page.getByLabel(`${scarce.name} の数量`, { exact: true }).fill('1');
  await page.getByRole('button', { name: `${scarce.name} をカートに追加` }).click();
  await assertText(
    page.getByRole('listitem').filter({ hasText: scarce.name }).getByRole('alert'),
    'insufficient stock: available=2, requested=3',
  );

  const rival = await f.a.customer('田中 次郎');
  await f.a.order(rival, [[scarce.id, 1]]);
  await go(page, '/cart', 'カート');
  await page.getByRole('button', { name: '注文を確定する' }).click();
  const line = page.getByRole('row', { name: new RegExp(scarce.name) });
  await assertText(line.getByRole('alert'), 'insufficient stock: available=1, requested=2');
  assert.equal(
    await page
      .getByRole('row', { name: new RegExp(other.name) })
      .getByRole('alert')
      .count(),
    0,
    'the other line has no problem',
  );
  await shoot(page, dir, '19-cart-insufficient-stock');

  // Fixing the quantity makes the checkout go through.
  await page.getByLabel(`${scarce.name} の数量`, { exact: true }).fill('1');
  await page.getByRole('button', { name: `${scarce.name} の数量を変更` }).click();
  await assertText(page.getByTestId('cart-total'), '3,500');
  await page.getByRole('button', { name: '注文を確定する' }).click();
  await assertText(page.locator('.order-status'), '支払い待ち');
  assertCleanWithLogs(customer);
});

/** On failure, the processes' warnings say what the server side saw (the browser only sees a status). */
function assertCleanWithLogs(person: Person): void {
  try {
    person.assertClean();
  } catch (err) {
    console.log(
      f.shop
        .logs()
        .split('\n')
        .filter((l) => /warn|error/i.test(l))
        .slice(-40)
        .join('\n'),
    );
    throw err;
  }
}
