import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AggregateType, EventEnvelope } from '../../platform/shared/envelope.ts';
import { escapeHtml, formatJst, formatYen, singleLineText } from '../../platform/mail/format.ts';
import { parseOrderPlaced } from './mail-events.ts';
import { orderMailKind, renderOrderMail } from './mail.ts';

const ORDER_ID = '0b6c8a9e-3f4d-4c2a-9a51-6f1e2d3c4b5a';

let seq = 0;
const envelope = (event_type: string, data: Record<string, unknown>, aggregate_type: AggregateType = 'Order'): EventEnvelope => ({
  event_id: `00000000-0000-4000-8000-${String(++seq).padStart(12, '0')}`,
  aggregate_id: aggregate_type === 'Order' ? ORDER_ID : 'other-aggregate',
  aggregate_type,
  event_type,
  version: seq,
  data,
  metadata: {},
  created_at: '2024-10-18T12:30:00.000Z',
  schema_version: 1,
});

const placedData = (overrides: Record<string, unknown> = {}) => ({
  order_id: ORDER_ID,
  user_id: 'user-1',
  user_email: 'hanako@example.com',
  items: [
    { product_id: 'p-1', name: '有機コーヒー豆', price: 1000, quantity: 2, subtotal: 2000 },
    { product_id: 'p-2', name: 'マグカップ', price: 1234567, quantity: 1, subtotal: 1234567 },
  ],
  total: 1236567,
  expires_at: '2024-10-18T12:45:00.000Z',
  placed_at: '2024-10-18T12:30:00.000Z',
  ...overrides,
});

const placedEvent = envelope('OrderPlaced', placedData());
const order = parseOrderPlaced(placedEvent);

const render = (event: EventEnvelope) => {
  const mail = renderOrderMail(event, order);
  assert.ok(mail, `${event.event_type} should produce a mail`);
  return mail;
};

describe('formatting', () => {
  it('formats integer yen with thousands separators', () => {
    assert.equal(formatYen(0), '¥0');
    assert.equal(formatYen(999), '¥999');
    assert.equal(formatYen(2000), '¥2,000');
    assert.equal(formatYen(1234567), '¥1,234,567');
    assert.equal(formatYen(-1500), '-¥1,500');
    assert.throws(() => formatYen(12.5), TypeError);
  });

  it('shows instants in JST (UTC+9), across a date boundary and from any offset', () => {
    assert.equal(formatJst('2024-10-18T12:45:00.000Z'), '2024年10月18日 21:45 (日本時間)');
    assert.equal(formatJst('2024-12-31T15:30:00Z'), '2025年1月1日 00:30 (日本時間)');
    assert.equal(formatJst('2024-10-18T21:45:00+09:00'), '2024年10月18日 21:45 (日本時間)');
    assert.throws(() => formatJst('tomorrow'), TypeError);
  });

  it('escapes every HTML-significant character and flattens control characters in header text', () => {
    assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    assert.equal(singleLineText('件名\r\nBcc: evil@example.com'), '件名 Bcc: evil@example.com');
  });
});

describe('orderMailKind', () => {
  it('maps the five mail-worthy Order events and nothing else', () => {
    assert.equal(orderMailKind({ aggregate_type: 'Order', event_type: 'OrderPlaced' }), 'order_placed');
    assert.equal(orderMailKind({ aggregate_type: 'Order', event_type: 'OrderPaid' }), 'order_paid');
    assert.equal(orderMailKind({ aggregate_type: 'Order', event_type: 'OrderShipped' }), 'order_shipped');
    assert.equal(orderMailKind({ aggregate_type: 'Order', event_type: 'OrderCancelled' }), 'order_cancelled');
    assert.equal(orderMailKind({ aggregate_type: 'Order', event_type: 'OrderShipmentFailed' }), 'order_shipment_failed');
    assert.equal(orderMailKind({ aggregate_type: 'Order', event_type: 'OrderDelivered' }), null);
    assert.equal(orderMailKind({ aggregate_type: 'Order', event_type: 'toString' }), null);
    assert.equal(orderMailKind({ aggregate_type: 'Shipment', event_type: 'OrderPlaced' }), null);
  });
});

describe('renderOrderMail', () => {
  it('order placed: recipient, subject, items with yen prices, total and the JST payment deadline', () => {
    const mail = render(placedEvent);
    assert.equal(mail.kind, 'order_placed');
    assert.equal(mail.to, 'hanako@example.com');
    assert.equal(mail.subject, `【EC Shop】ご注文確認（注文番号 ${ORDER_ID}）`);
    for (const body of [mail.text, mail.html]) {
      assert.match(body, /有機コーヒー豆/);
      assert.match(body, /¥1,000/);
      assert.match(body, /¥2,000/);
      assert.match(body, /マグカップ/);
      assert.match(body, /¥1,236,567/);
      assert.match(body, /お支払い期限/);
      assert.match(body, /2024年10月18日 21:45 \(日本時間\)/);
    }
    assert.match(mail.text, /¥1,000 × 2 = ¥2,000/);
    assert.match(mail.text, /合計: ¥1,236,567/);
    assert.match(mail.html, /<meta charset="utf-8">/);
  });

  it('order paid: amount and payment time', () => {
    const mail = render(envelope('OrderPaid', { order_id: ORDER_ID, paid_at: '2024-10-18T12:40:00Z', amount: 1236567 }));
    assert.equal(mail.kind, 'order_paid');
    assert.equal(mail.to, 'hanako@example.com');
    assert.match(mail.subject, /お支払い確認/);
    assert.match(mail.text, /お支払い金額: ¥1,236,567/);
    assert.match(mail.text, /お支払い日時: 2024年10月18日 21:40/);
    assert.match(mail.text, /有機コーヒー豆/, 'the items come from OrderPlaced');
  });

  it('order shipped: tracking number in text and HTML', () => {
    const mail = render(
      envelope('OrderShipped', { order_id: ORDER_ID, tracking_number: 'JP-1234-5678', shipped_at: '2024-10-19T01:00:00Z' }),
    );
    assert.equal(mail.kind, 'order_shipped');
    assert.match(mail.subject, /発送のお知らせ/);
    assert.match(mail.text, /追跡番号: JP-1234-5678/);
    assert.match(mail.html, /JP-1234-5678/);
    assert.match(mail.text, /発送日時: 2024年10月19日 10:00/);
  });

  it('order cancelled: the reason, and wording that depends on who cancelled', () => {
    const cancelled = (cancelled_by: string, reason: string) =>
      render(envelope('OrderCancelled', { order_id: ORDER_ID, reason, cancelled_by, cancelled_at: '2024-10-18T12:46:00Z' }));
    const bySystem = cancelled('system', 'payment_timeout');
    const byCustomer = cancelled('customer', '間違えて注文しました');
    const byAdmin = cancelled('admin', '在庫切れ');
    assert.match(bySystem.subject, /キャンセルのお知らせ/);
    assert.match(bySystem.text, /キャンセル理由: payment_timeout/);
    assert.match(bySystem.text, /お支払い期限の 2024年10月18日 21:45 \(日本時間\) までにお支払いを確認できなかった/);
    assert.doesNotMatch(bySystem.text, /返金/, 'an unpaid order has nothing to refund');
    assert.match(byCustomer.text, /ご依頼のとおり/);
    assert.match(byCustomer.text, /キャンセル理由: 間違えて注文しました/);
    assert.match(byAdmin.text, /申し訳ございません/);
    assert.notEqual(byCustomer.text.split('\n')[2], byAdmin.text.split('\n')[2]);
    assert.match(cancelled('customer', '  ').text, /キャンセル理由: （記載なし）/);
  });

  it('shipment failed: an apology, the reason and the refund of the total', () => {
    const mail = render(
      envelope('OrderShipmentFailed', { order_id: ORDER_ID, reason: '配送業者の事故', failed_at: '2024-10-19T03:00:00Z' }),
    );
    assert.equal(mail.kind, 'order_shipment_failed');
    assert.match(mail.subject, /配送失敗/);
    assert.match(mail.text, /申し訳ございません/);
    assert.match(mail.text, /理由: 配送業者の事故/);
    assert.match(mail.text, /¥1,236,567 は全額返金/);
    assert.match(mail.html, /返金額/);
  });

  it('escapes a malicious product name and reason in HTML but keeps them verbatim in text', () => {
    const evilName = `<script>alert("x")</script> & 'y'`;
    const evilReason = '<img src=x onerror=alert(1)>\n二行目';
    const evilOrder = parseOrderPlaced(
      envelope(
        'OrderPlaced',
        placedData({ items: [{ product_id: 'p-9', name: evilName, price: 500, quantity: 1, subtotal: 500 }], total: 500 }),
      ),
    );
    const mail = renderOrderMail(
      envelope('OrderCancelled', { order_id: ORDER_ID, reason: evilReason, cancelled_by: 'admin', cancelled_at: '2024-10-18T13:00:00Z' }),
      evilOrder,
    );
    assert.ok(mail);
    assert.doesNotMatch(mail.html, /<script|<img/);
    assert.match(mail.html, /&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt; &amp; &#39;y&#39;/);
    assert.match(mail.html, /&lt;img src=x onerror=alert\(1\)&gt;<br>二行目/);
    assert.ok(mail.text.includes(evilName));
    assert.ok(mail.text.includes(evilReason));
  });

  it('returns null for events that call for no mail', () => {
    assert.equal(renderOrderMail(envelope('OrderDelivered', { order_id: ORDER_ID, delivered_at: '2024-10-20T00:00:00Z' }), order), null);
    assert.equal(renderOrderMail(envelope('ProductCreated', { product_id: 'p-1', name: 'x', price: 1 }, 'Product'), order), null);
    assert.equal(renderOrderMail(envelope('UserRegistered', { user_id: 'u', email: 'a@example.com' }, 'User'), order), null);
  });

  it('refuses to render with another order (wrong recipient) or with a malformed event', () => {
    const other = { ...order, order_id: 'another-order' };
    assert.throws(() => renderOrderMail(placedEvent, other), /rendered with order another-order/);
    assert.throws(
      () => render(envelope('OrderShipped', { order_id: ORDER_ID, shipped_at: '2024-10-19T01:00:00Z' })),
      /data\.tracking_number must be/,
    );
    assert.throws(
      () => render(envelope('OrderPaid', { order_id: ORDER_ID, paid_at: 'soon', amount: 1 })),
      /data\.paid_at must be an ISO-8601/,
    );
  });

  it('is pure: same input, same output, input untouched', () => {
    const event = envelope('OrderShipped', { order_id: ORDER_ID, tracking_number: 'T-1', shipped_at: '2024-10-19T01:00:00Z' });
    const before = structuredClone({ event, order });
    assert.deepEqual(render(event), render(event));
    assert.deepEqual({ event, order }, before);
  });
});

describe('parseOrderPlaced', () => {
  it('rejects an order whose payload disagrees with its stream, a bad recipient, or no items', () => {
    assert.throws(
      () => parseOrderPlaced(envelope('OrderPlaced', placedData({ order_id: 'someone-else' }))),
      /data\.order_id must be the aggregate id/,
    );
    assert.throws(() => parseOrderPlaced(envelope('OrderPlaced', placedData({ user_email: 'a@b.c\r\nBcc: x@y.z' }))), /data\.user_email/);
    assert.throws(() => parseOrderPlaced(envelope('OrderPlaced', placedData({ items: [] }))), /data\.items must be a non-empty array/);
    assert.throws(
      () =>
        parseOrderPlaced(
          envelope('OrderPlaced', placedData({ items: [{ product_id: 'p', name: 'n', price: 1, quantity: 0, subtotal: 0 }] })),
        ),
      /items\[0\]\.quantity/,
    );
    assert.throws(() => parseOrderPlaced(envelope('OrderPaid', {})), /expected an Order OrderPlaced event/);
  });
});
