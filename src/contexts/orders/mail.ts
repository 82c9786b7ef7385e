/**
 * "Event → mail or nothing": pure, no SDK, no clock. The order's OrderPlaced data is passed in because later
 * events (paid, shipped, cancelled) carry neither the recipient nor the items; the caller reads it from the
 * event store, never from a read model (which may lag behind the event being mailed about).
 */
import type { EventEnvelope } from '../../platform/shared/envelope.ts';
import { formatJst, formatYen, singleLineText } from '../../platform/mail/format.ts';
import { renderHtml, renderText, type MailContent } from './mail-layout.ts';
import type { OrderPlacedData } from './events.ts';
import { ORDER_AGGREGATE_TYPE } from './events.ts';
import type { EventOf } from '../../kernel/contracts.ts';
import { decodeEvent } from '../../kernel/contracts.ts';

/** Part of the sent_emails key and of the Message-ID: never rename a kind once mail has been sent with it. */
export type OrderMailKind = 'order_placed' | 'order_paid' | 'order_shipped' | 'order_cancelled' | 'order_shipment_failed';

const _EVENT_TYPE_BY_KIND = {
  order_placed: 'OrderPlaced',
  order_paid: 'OrderPaid',
  order_shipped: 'OrderShipped',
  order_cancelled: 'OrderCancelled',
  order_shipment_failed: 'OrderShipmentFailed',
} as const satisfies Record<OrderMailKind, MailEventType>;

const KIND_BY_EVENT_TYPE: Readonly<Record<string, OrderMailKind>> = {
  OrderPlaced: 'order_placed',
  OrderPaid: 'order_paid',
  OrderShipped: 'order_shipped',
  OrderCancelled: 'order_cancelled',
  OrderShipmentFailed: 'order_shipment_failed',
};

export interface OrderMail {
  kind: OrderMailKind;
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** The mail an event calls for, or null. Cheap: lets the sender skip events without reading any stream. */
export const orderMailKind = (event: Pick<EventEnvelope, 'aggregate_type' | 'event_type'>): OrderMailKind | null =>
  event.aggregate_type === ORDER_AGGREGATE_TYPE && Object.hasOwn(KIND_BY_EVENT_TYPE, event.event_type)
    ? (KIND_BY_EVENT_TYPE[event.event_type] ?? null)
    : null;

const subject = (what: string, order: OrderPlacedData) => `【EC Shop】${what}（注文番号 ${order.order_id}）`;
const REFUND_IF_PAID = 'すでにお支払いいただいている場合は、全額を返金いたします。';

/** A reason may legitimately be empty (a customer cancelling without comment); a missing one is a defect (the contract). */
const shownReason = (reason: string): string => (reason.trim() === '' ? '（記載なし）' : reason);

type MailEventType = 'OrderPlaced' | 'OrderPaid' | 'OrderShipped' | 'OrderCancelled' | 'OrderShipmentFailed';
type Template<T extends MailEventType> = (event: EventOf<T>, order: OrderPlacedData) => MailContent;

const TEMPLATES: { [K in OrderMailKind]: Template<(typeof _EVENT_TYPE_BY_KIND)[K]> } = {
  order_placed: (_event, order) => ({
    subject: subject('ご注文確認', order),
    heading: 'ご注文ありがとうございます',
    paragraphs: [
      'EC Shop をご利用いただき、誠にありがとうございます。以下の内容でご注文を承りました。',
      'お支払い期限までにお支払いをお願いいたします。期限を過ぎますと、ご注文は自動的にキャンセルされます。',
    ],
    facts: [
      ['注文番号', order.order_id],
      ['ご注文日時', formatJst(order.placed_at)],
      ['合計金額', formatYen(order.total)],
      ['お支払い期限', formatJst(order.expires_at)],
    ],
    order,
  }),

  order_paid: (event, order) => ({
    subject: subject('お支払い確認', order),
    heading: 'お支払いを確認しました',
    paragraphs: [
      'ご注文のお支払いを確認いたしました。ありがとうございます。',
      '商品を発送しましたら、あらためて発送のお知らせをお送りします。',
    ],
    facts: [
      ['注文番号', order.order_id],
      ['お支払い金額', formatYen(event.data.amount)],
      ['お支払い日時', formatJst(event.data.paid_at)],
    ],
    order,
  }),

  order_shipped: (event, order) => ({
    subject: subject('発送のお知らせ', order),
    heading: '商品を発送しました',
    paragraphs: ['ご注文の商品を発送いたしました。', '配送状況は、下記の追跡番号で配送業者のサイトからご確認いただけます。'],
    facts: [
      ['注文番号', order.order_id],
      ['追跡番号', event.data.tracking_number],
      ['発送日時', formatJst(event.data.shipped_at)],
    ],
    order,
  }),

  order_cancelled: (event, order) => {
    const cancelledBy = event.data.cancelled_by;
    // 'system' means the payment deadline passed: the customer did nothing wrong but also paid nothing,
    // so the mail explains the deadline instead of promising a refund.
    const paragraphs =
      cancelledBy === 'system'
        ? [
            `お支払い期限の ${formatJst(order.expires_at)} までにお支払いを確認できなかったため、ご注文を自動的にキャンセルいたしました。`,
            'お取り置きしていた商品の在庫は解放されました。引き続きご購入をご希望の場合は、お手数ですが改めてご注文ください。',
          ]
        : cancelledBy === 'customer'
          ? ['ご依頼のとおり、ご注文をキャンセルいたしました。', REFUND_IF_PAID]
          : ['誠に申し訳ございませんが、ご注文をキャンセルさせていただきました。', REFUND_IF_PAID];
    return {
      subject: subject('キャンセルのお知らせ', order),
      heading: 'ご注文はキャンセルされました',
      paragraphs,
      facts: [
        ['注文番号', order.order_id],
        ['キャンセル理由', shownReason(event.data.reason)],
        ['キャンセル日時', formatJst(event.data.cancelled_at)],
      ],
      order,
    };
  },

  order_shipment_failed: (event, order) => ({
    subject: subject('配送失敗のお知らせとお詫び', order),
    heading: '商品をお届けできませんでした',
    paragraphs: [
      '大変申し訳ございません。配送中に問題が発生し、ご注文の商品をお届けすることができませんでした。',
      `このご注文はキャンセルとなり、お支払いいただいた ${formatYen(order.total)} は全額返金いたします。ご迷惑をおかけしましたことを心よりお詫び申し上げます。`,
    ],
    facts: [
      ['注文番号', order.order_id],
      ['理由', shownReason(event.data.reason)],
      ['発生日時', formatJst(event.data.failed_at)],
      ['返金額', formatYen(order.total)],
    ],
    order,
  }),
};

/** The template of `kind` applied to the decoded event (the kind was derived from the same event type). */
function render(kind: OrderMailKind, event: ReturnType<typeof decodeEvent>, order: OrderPlacedData): MailContent {
  switch (event?.event_type) {
    case 'OrderPlaced':
      return TEMPLATES.order_placed(event, order);
    case 'OrderPaid':
      return TEMPLATES.order_paid(event, order);
    case 'OrderShipped':
      return TEMPLATES.order_shipped(event, order);
    case 'OrderCancelled':
      return TEMPLATES.order_cancelled(event, order);
    case 'OrderShipmentFailed':
      return TEMPLATES.order_shipment_failed(event, order);
    default:
      throw new TypeError(`no ${kind} mail for ${event?.event_type}`);
  }
}

/**
 * The customer mail for an Order event, or null for every event that calls for none. Throws EventDataError when a
 * field the mail needs is malformed, or when `order` belongs to another order (a wrong recipient would leak
 * one customer's order to another).
 */
export function renderOrderMail(event: EventEnvelope, order: OrderPlacedData): OrderMail | null {
  const kind = orderMailKind(event);
  if (kind === null) return null;
  if (order.order_id !== event.aggregate_id) {
    throw new TypeError(`${event.event_type} ${event.event_id} of order ${event.aggregate_id} rendered with order ${order.order_id}`);
  }
  const decoded = decodeEvent(event);
  const content = render(kind, decoded, order);
  const mail = { ...content, subject: singleLineText(content.subject) };
  return { kind, to: order.user_email, subject: mail.subject, text: renderText(mail), html: renderHtml(mail) };
}
