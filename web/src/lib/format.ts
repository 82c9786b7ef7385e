import type { OrderStatus, Role, SagaStatus, SagaStepStatus } from '../api/types.ts';

const yenFormat = new Intl.NumberFormat('ja-JP', { style: 'currency', currency: 'JPY' });
const numberFormat = new Intl.NumberFormat('ja-JP');
const dateTimeFormat = new Intl.DateTimeFormat('ja-JP', { dateStyle: 'medium', timeStyle: 'medium' });
const shortDateFormat = new Intl.DateTimeFormat('ja-JP', { month: 'numeric', day: 'numeric' });

/** Integer yen as the Japanese reader expects it: ￥12,800. */
export const yen = (n: number): string => yenFormat.format(n);
export const num = (n: number): string => numberFormat.format(n);
export const dateTime = (iso: string | null | undefined): string => (iso ? dateTimeFormat.format(new Date(iso)) : '—');
/** A UTC calendar day (YYYY-MM-DD) as month/day, without shifting it to the local time zone. */
export const day = (ymd: string): string => shortDateFormat.format(new Date(`${ymd}T12:00:00Z`));
export const shortId = (id: string): string => (id.length > 13 ? `${id.slice(0, 8)}…` : id);

export const ORDER_STATUS_LABEL: Record<OrderStatus, string> = {
  pending: '支払い待ち',
  paid: '支払い済み',
  shipped: '発送済み',
  delivered: '配達完了',
  cancelled: 'キャンセル',
  shipment_failed: '配送失敗',
};

export const SAGA_STATUS_LABEL: Record<SagaStatus, string> = {
  running: '進行中',
  completed: '完了',
  compensated: '補償済み',
  failed: '失敗',
};

export const STEP_STATUS_LABEL: Record<SagaStepStatus, string> = { completed: '完了', failed: '失敗', skipped: 'スキップ' };

export const SAGA_TYPE_LABEL: Record<string, string> = { fulfilment: '配送 Saga', reservation_expiry: '支払期限 (在庫引当の失効)' };

export const ROLE_LABEL: Record<Role, string> = { admin: '管理者', customer: '顧客' };

/** Relative time until an instant, e.g. "あと 14 分" or "期限切れ". */
export function remaining(iso: string, now = Date.now()): string {
  const ms = Date.parse(iso) - now;
  if (ms <= 0) return '期限切れ';
  const minutes = Math.floor(ms / 60_000);
  if (minutes >= 60) return `あと ${Math.floor(minutes / 60)} 時間 ${minutes % 60} 分`;
  if (minutes >= 1) return `あと ${minutes} 分`;
  return `あと ${Math.ceil(ms / 1000)} 秒`;
}

/** Event types in Japanese (the stored name stays visible next to it: it is the stable contract). */
export const EVENT_LABEL: Record<string, string> = {
  UserRegistered: 'ユーザー登録',
  EmailClaimed: 'メールアドレス確保',
  CategoryCreated: 'カテゴリ作成',
  CategoryNameClaimed: 'カテゴリ名確保',
  ProductCreated: '商品登録',
  ProductUpdated: '商品更新',
  ProductDeleted: '商品削除',
  StockAdded: '入荷',
  StockReserved: '在庫引当',
  StockDeducted: '在庫確定',
  StockReleased: '引当解除',
  ItemAddedToCart: 'カートに追加',
  ItemRemovedFromCart: 'カートから削除',
  CartCleared: 'カートを空に',
  OrderPlaced: '注文受付',
  OrderPaid: '支払い完了',
  OrderShipped: '発送',
  OrderDelivered: '配達完了',
  OrderCancelled: 'キャンセル',
  OrderShipmentFailed: '配送失敗',
  OrderPaymentRefunded: '返金',
  StockReturned: '在庫の戻し',
  ShipmentInitiated: '配送の受付',
  ShipmentRequested: '配送業者へ依頼',
  ShipmentCompleted: '出荷',
  ShipmentFailed: '配送失敗',
  ShipmentCancelled: '配送の取消',
};

export const EVENT_TYPES = Object.keys(EVENT_LABEL);
export const AGGREGATE_TYPES = ['User', 'Category', 'Product', 'Inventory', 'Cart', 'Order', 'Shipment', 'EmailClaim', 'CategoryNameClaim'];
export const eventLabel = (type: string) => EVENT_LABEL[type] ?? type;

/** A saga step name (snake_case, past tense) in Japanese where known. */
export const STEP_LABEL: Record<string, string> = {
  started: '開始（支払い確認）',
  shipment_opened: '配送の受付',
  shipment_requested: '配送業者へ依頼',
  dispatched: '出荷',
  failed: '配送失敗',
  cancelled: 'キャンセル',
  compensated: '補償（返金・在庫の戻し）',
  carrier_answered: '配送業者の回答（反映なし）',
  stalled: '停止（再試行中）',
  completed: '終了',
  expired: '期限切れで取消',
  skipped: '対象外（支払い済みなど）',
};
export const stepLabel = (step: string) => STEP_LABEL[step] ?? step;

/** How a saga ended (its `completed` step's outcome). */
export const OUTCOME_LABEL: Record<string, string> = {
  shipped: '発送済み',
  shipment_failed: '配送失敗（返金済み）',
  cancelled: 'キャンセル（返金済み）',
  expired: '支払期限切れで取消',
};

const WHO_LABEL: Record<string, string> = { customer: 'お客様', admin: '管理者（手動）', system: 'システム', carrier: '配送業者' };
const ANSWER_LABEL: Record<string, string> = { dispatched: '出荷', failed: '失敗' };

/** A saga step's detail as labelled values for people (never a JSON dump); unknown keys keep their name. */
export function stepDetails(detail: Record<string, unknown>): Array<{ key: string; label: string; value: string }> {
  const text = (v: unknown) =>
    typeof v === 'string' ? v : typeof v === 'number' ? num(v) : typeof v === 'boolean' ? (v ? 'はい' : 'いいえ') : JSON.stringify(v);
  const fields: Record<string, [string, (v: unknown) => string]> = {
    amount: ['金額', (v) => (typeof v === 'number' ? yen(v) : text(v))],
    refunded_amount: ['返金額', (v) => (typeof v === 'number' ? yen(v) : text(v))],
    paid_at: ['支払日時', (v) => dateTime(String(v))],
    shipment_id: ['配送 ID', text],
    carrier: ['配送業者', text],
    carrier_reference: ['配送業者の受付番号', text],
    tracking_number: ['追跡番号', text],
    dispatched_by: ['出荷の記録', (v) => WHO_LABEL[String(v)] ?? text(v)],
    cancelled_by: ['キャンセルした人', (v) => WHO_LABEL[String(v)] ?? text(v)],
    reason: ['理由', text],
    outcome: ['結果', (v) => OUTCOME_LABEL[String(v)] ?? text(v)],
    answer: ['回答', (v) => ANSWER_LABEL[String(v)] ?? text(v)],
    why: ['反映しなかった理由', text],
    shipment_cancelled: ['配送の取消', text],
    attempts: ['試行回数', text],
    expires_at: ['支払期限', (v) => dateTime(String(v))],
    fired_at: ['実行日時', (v) => dateTime(String(v))],
    action: ['処理', (v) => ({ request: '配送依頼', answer: '回答の確認' })[String(v)] ?? text(v)],
    error: ['エラー', text],
    retrying_every_ms: ['再試行の間隔', (v) => (typeof v === 'number' ? `${num(Math.round(v / 1000))} 秒` : text(v))],
  };
  return Object.entries(detail)
    .filter(([, v]) => v !== null && v !== undefined && v !== '')
    .map(([key, v]) => {
      const [label, format] = fields[key] ?? [key, text];
      return { key, label, value: format(v) };
    });
}
