/**
 * The fulfilment saga as a shopper and an admin see it, in a real headless Chromium (issues #7, #8). In a shop
 * of its own (test/support/isolated.ts): the outcome of a shipment is the worker's SHIPMENT_FAILURE_RATE, and
 * every worker sharing a database would fire this shop's timers. The carrier answers after 500 ms. The worker
 * starts with a failure rate of 0 and is replaced by one with a rate of 1 between the two orders (the carrier
 * decides a parcel's fate when it books it, so the first order's fate is already stored by then).
 *
 * Tests run in order and share the shop and the two browsers.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { SIMULATED_FAILURE_REASONS } from '../../src/contexts/shipping/carrier-adapter.ts';
import { assertText, go, loginThroughForm, openPerson, screenshotDir, shoot, type Person } from '../support/browser.ts';
import { stackSecrets, uniq } from '../support/env.ts';
import { eventually } from '../support/http.ts';
import { startIsolatedShop, type IsolatedShop } from '../support/isolated.ts';
import { sagaHelpers } from '../support/saga.ts';
import type { Customer } from '../support/shop.ts';

/** Generous: the carrier's 500 ms, a worker tick, two consumer groups and a loaded 2-core machine. */
const SAGA_MS = 120_000;

let iso: IsolatedShop;
let dir: string;
let shopper: Person;
let admin: Person;
let buyer: Customer;
let product: { id: string; name: string; price: number };
const orders: { shipped?: string; failed?: string } = {};
const token = uniq('').replace(/[^a-z0-9]/g, '');

before(async () => {
  iso = await startIsolatedShop({ env: { SHIPMENT_DELAY_MS: '500', SHIPMENT_FAILURE_RATE: '0' } });
  dir = screenshotDir();
  shopper = await openPerson(iso.shop.baseUrl, 'saga-customer');
  admin = await openPerson(iso.shop.baseUrl, 'saga-admin');
  product = await iso.a.product({ name: `信楽焼の湯呑み ${token}`, description: '手作りの湯呑み', price: 3200, stock: 10 });
  buyer = await iso.a.customer('高橋 美咲');
});

after(async () => {
  await Promise.allSettled([shopper?.close(), admin?.close()]);
  await iso?.stop();
});

const { useWorker, sagaWhen, paidOrders, customers } = sagaHelpers(() => iso);

function assertCleanWithLogs(person: Person): void {
  try {
    person.assertClean();
  } catch (err) {
    console.log(
      iso.shop
        .logs()
        .split('\n')
        .filter((l) => /warn|error/i.test(l))
        .slice(-40)
        .join('\n'),
    );
    throw err;
  }
}

/** Product page → cart → checkout → pay, as a shopper does it; resolves the order id once it is paid. */
async function buyAndPay(page: Page): Promise<string> {
  await go(page, `/products/${product.id}`, product.name);
  await page.getByLabel(`${product.name} の数量`, { exact: true }).fill('1');
  await page.getByRole('button', { name: `${product.name} をカートに追加` }).click();
  await page.getByRole('status').filter({ hasText: '追加しました' }).waitFor();
  await page
    .getByRole('navigation', { name: 'メイン' })
    .getByRole('link', { name: /カート/ })
    .click();
  await page.getByRole('heading', { level: 1, name: 'カート' }).waitFor();
  await page.getByRole('button', { name: '注文を確定する' }).click();
  await assertText(page.locator('.order-status'), '支払い待ち');
  const orderId = (await page.locator('.order-id').textContent())!.trim();
  await page.evaluate(() => ((globalThis as unknown as { notReloaded: boolean }).notReloaded = true));
  await page.getByRole('button', { name: /3,200.*を支払う/ }).click();
  return orderId;
}

const notReloaded = (page: Page) => page.evaluate(() => (globalThis as unknown as { notReloaded?: boolean }).notReloaded === true);
const timelineEntry = (page: Page, code: string) => page.locator(`ol.timeline li[data-code="${code}"]`);

test('a customer pays and sees the carrier ship the order, with its tracking number, without a reload', async () => {
  const { page } = shopper;
  await loginThroughForm(page, buyer.email, buyer.password);
  const orderId = await buyAndPay(page);
  orders.shipped = orderId;

  await assertText(page.locator('.order-status'), '発送済み', SAGA_MS);
  const shown = await iso.a.http.get(`/orders/${orderId}`, buyer.token);
  assert.match(shown.body.tracking_number, /^SIM\d{4}-\d{4}-\d{4}$/, "the simulated carrier's tracking number");
  await assertText(page.getByTestId('tracking-number'), shown.body.tracking_number);
  // The saga's steps join the timeline as the worker records them (the page asks again while they lag).
  for (const code of ['OrderPlaced v1', 'OrderPaid v2', 'OrderShipped v3', 'started', 'shipment_requested', 'dispatched', 'completed']) {
    await timelineEntry(page, code).waitFor({ timeout: 60_000 });
  }
  await assertText(timelineEntry(page, 'dispatched'), shown.body.tracking_number);
  await assertText(page.getByRole('list', { name: '配送の進み具合' }).locator('li[aria-current="step"]'), '配達完了');
  assert.equal(await page.getByRole('button', { name: '注文をキャンセル' }).count(), 0, 'a shipped order cannot be cancelled');
  assert.ok(await notReloaded(page), 'the status changed without a reload');
  await shoot(page, dir, '20-order-shipped-by-carrier');
  assertCleanWithLogs(shopper);
});

test('another order fails at the carrier: the customer sees 配送失敗, the refund and the compensation in its timeline', async () => {
  const { page } = shopper;
  // The first order's saga has ended; from now on every parcel fails.
  await sagaWhen(orders.shipped!, (s) => s.status === 'completed', 'the shipped saga completed');
  await useWorker({ SHIPMENT_FAILURE_RATE: '1' });
  const stockBefore = (await iso.a.http.get(`/products/${product.id}`)).body.available_quantity;

  const orderId = await buyAndPay(page);
  orders.failed = orderId;
  await assertText(page.locator('.order-status'), '配送失敗', SAGA_MS);
  await assertText(page.getByTestId('refund'), '￥3,200', SAGA_MS);
  const notice = (await page.getByTestId('shipment-failed').textContent()) ?? '';
  assert.ok(
    SIMULATED_FAILURE_REASONS.some((r) => notice.includes(r)),
    `the carrier's reason is shown: ${notice}`,
  );
  for (const code of ['OrderShipmentFailed v3', 'OrderPaymentRefunded v4', 'shipment_requested', 'failed', 'compensated', 'completed']) {
    await timelineEntry(page, code).waitFor({ timeout: 60_000 });
  }
  await assertText(timelineEntry(page, 'OrderPaymentRefunded v4'), '￥3,200 を返金');
  await assertText(timelineEntry(page, 'compensated'), '在庫を戻しました');
  assert.equal(await page.locator('ol.timeline li.timeline-failed').count(), 1, 'the failed step stands out');
  assert.equal(await page.getByTestId('tracking-number').count(), 0, 'no tracking number for a parcel that never left');
  assert.equal(await page.getByRole('button', { name: '注文をキャンセル' }).count(), 0);
  assert.ok(await notReloaded(page), 'the failure and the refund appeared without a reload');
  await shoot(page, dir, '21-order-shipment-failed');

  // The stock came back (the read model the product page shows).
  await eventually(async () => (await iso.a.http.get(`/products/${product.id}`)).body.available_quantity === stockBefore, {
    what: 'the unit back in stock',
    timeoutMs: 30_000,
  });

  // The order list shows both outcomes.
  await page.getByRole('navigation', { name: 'メイン' }).getByRole('link', { name: '注文履歴' }).click();
  await assertText(page.locator(`tr[data-order-id="${orders.failed}"]`), '配送失敗');
  await assertText(page.locator(`tr[data-order-id="${orders.shipped}"]`), '発送済み');
  await shoot(page, dir, '22-orders-both-outcomes');
  assertCleanWithLogs(shopper);
});

test('the admin sees both sagas with their steps, the events the compensation wrote, and filters the log', async () => {
  const { page } = admin;
  const { shipped, failed } = orders;
  assert.ok(shipped && failed, 'the customer tests ran first');
  // Both sagas have written their last steps (they may land a moment after the order's status).
  await sagaWhen(
    failed,
    (s) => s.status === 'compensated' && s.steps.some((x: { step: string }) => x.step === 'completed'),
    'the failed saga ended',
  );
  await loginThroughForm(page, stackSecrets().adminEmail, stackSecrets().adminPassword);
  await go(page, '/sagas', 'Saga ログ');

  const ok = page.locator(`li[data-saga-id="fulfilment-${shipped}"]`);
  const bad = page.locator(`li[data-saga-id="fulfilment-${failed}"]`);
  await assertText(ok.locator('.badge'), '完了');
  await assertText(ok.getByTestId('saga-outcome'), '発送済み');
  for (const step of ['started', 'shipment_opened', 'shipment_requested', 'dispatched', 'completed'])
    await ok.locator(`li[data-step="${step}"]`).waitFor();
  await assertText(ok.locator('li[data-step="dispatched"]'), /追跡番号\s*SIM/);
  await assertText(bad.locator('.badge'), '補償済み');
  await assertText(bad.getByTestId('saga-outcome'), /配送失敗（返金済み）.*理由.*補償: ￥3,200 を返金、在庫を戻しました/);
  for (const step of ['started', 'shipment_requested', 'failed', 'compensated', 'completed'])
    await bad.locator(`li[data-step="${step}"]`).waitFor();
  await assertText(bad.locator('li[data-step="compensated"]'), /返金額\s*￥3,200/);
  assert.equal(await page.locator('pre.json').count(), 0, 'step details are labelled values, not JSON');

  // Which events the compensation wrote, each a link to its stream at its version.
  await bad.getByRole('button', { name: /書き込んだイベントを表示/ }).click();
  const compensation = bad.locator('li[data-step="compensated"]');
  await compensation.getByRole('link', { name: /^OrderShipmentFailed v3$/ }).waitFor();
  await compensation.getByRole('link', { name: /^OrderPaymentRefunded v4$/ }).waitFor();
  const returned = compensation.getByRole('link', { name: /^StockReturned v\d+$/ });
  await returned.waitFor();
  await bad
    .locator('li[data-step="failed"]')
    .getByRole('link', { name: /^ShipmentFailed v\d+$/ })
    .waitFor();
  await shoot(page, dir, '23-sagas');

  const version = Number((await returned.textContent())!.match(/v(\d+)/)![1]);
  await returned.click();
  await page.getByRole('heading', { level: 1, name: `ストリーム inventory-${product.id}` }).waitFor();
  await assertText(page.locator('.stream li[aria-current="step"]'), `v${version} StockReturned`);
  await shoot(page, dir, '24-stream-stock-returned');

  // Filters: by outcome, by type, by order.
  await go(page, '/sagas', 'Saga ログ');
  await page.getByLabel('結果').selectOption({ label: '補償済み' });
  await bad.waitFor();
  await eventually(async () => (await ok.count()) === 0, { what: 'only compensated sagas' });
  await page.getByLabel('結果').selectOption({ label: 'すべて' });
  await page.getByLabel('注文 ID').fill(shipped);
  await page.getByRole('button', { name: '絞り込む' }).click();
  await ok.waitFor();
  await eventually(async () => (await page.locator('li[data-saga-id]').count()) === 1, { what: 'only the saga of that order' });
  await page.getByLabel('種類').selectOption({ label: '支払期限 (在庫引当の失効)' });
  await page.getByText('条件に合う Saga はありません。').waitFor();

  // The orders list by status has the failed one, with no ship form; the shipped one keeps its carrier's number.
  await go(page, '/admin?tab=orders', '管理');
  await page.getByLabel('状態').selectOption({ label: '配送失敗' });
  const failedRow = page.locator(`tr[data-order-id="${failed}"]`);
  await assertText(failedRow, '返金 ￥3,200');
  await eventually(async () => (await page.locator(`tr[data-order-id="${shipped}"]`).count()) === 0, {
    what: 'only shipment_failed orders',
  });
  assert.equal(await page.getByRole('button', { name: `注文 ${failed} を発送` }).count(), 0, 'a failed order cannot be shipped by hand');
  await shoot(page, dir, '25-admin-orders-shipment-failed');

  // From the saga to the order and back.
  await failedRow.getByRole('link', { name: `注文 ${failed} の配送 Saga` }).click();
  await bad.waitFor();
  await bad.getByRole('link', { name: `注文 ${failed}` }).click();
  await page.getByRole('link', { name: 'この注文の Saga' }).waitFor();
  await assertText(page.locator('.order-status'), '配送失敗');
  assertCleanWithLogs(admin);
});

test('the saga log pages by cursor: 20 a page, newest first, back and forth', async () => {
  const { page } = admin;
  // 19 more paid orders (each a fulfilment saga): 21 sagas in this shop, the shipped one the oldest.
  const stock = await iso.a.product({ name: `急須 ${token}`, price: 500, stock: 100 });
  await paidOrders(19, await customers(3), [[stock.id, 1]]);
  await eventually(async () => (await iso.a.http.get('/sagas?limit=100', iso.admin)).body.items.length === 21, {
    what: '21 sagas in the log',
    timeoutMs: SAGA_MS,
  });

  await go(page, '/sagas', 'Saga ログ');
  const cards = page.locator('li[data-saga-id]');
  await eventually(async () => (await cards.count()) === 20, { what: '20 sagas on the first page' });
  assert.equal(
    await page.locator(`li[data-saga-id="fulfilment-${orders.shipped}"]`).count(),
    0,
    'the oldest saga is not on the first page',
  );
  const pager = page.getByRole('navigation', { name: 'Saga ログのページ' });
  await pager.getByRole('button', { name: '次へ →' }).click();
  await page.locator(`li[data-saga-id="fulfilment-${orders.shipped}"]`).waitFor();
  assert.equal(await cards.count(), 1, 'the second page holds the rest');
  await assertText(pager, '2 ページ');
  assert.ok(await pager.getByRole('button', { name: '次へ →' }).isDisabled(), 'no third page');
  await pager.getByRole('button', { name: '← 前へ' }).click();
  await eventually(async () => (await cards.count()) === 20, { what: 'back on the first page' });
  assertCleanWithLogs(admin);
});
