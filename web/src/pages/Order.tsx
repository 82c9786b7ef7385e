import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link, useParams } from 'react-router';
import { useApi, useSession, useVersions } from '../api/context.tsx';
import { useOrder, useStream } from '../api/queries.ts';
import type { Order, OrderChanged, StoredEvent } from '../api/types.ts';
import { Field, OrderStatusBadge, ProblemText, QueryView, StepStatusIcon } from '../components/ui.tsx';
import { dateTime, eventLabel, remaining, SAGA_STATUS_LABEL, stepLabel, yen } from '../lib/format.ts';
import { useNow } from '../lib/use-now.ts';

function useOrderCommand(orderId: string, path: string) {
  const api = useApi();
  const versions = useVersions();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body?: unknown) => api.post<OrderChanged>(`/orders/${orderId}/${path}`, body),
    onSuccess: (answer) => {
      versions.note(answer.order_id, answer.version);
      void queryClient.invalidateQueries({ queryKey: ['order', orderId] });
      void queryClient.invalidateQueries({ queryKey: ['orders'] });
      void queryClient.invalidateQueries({ queryKey: ['stream', orderId] });
    },
  });
}

function Deadline({ order }: { order: Order }) {
  const now = useNow();
  if (order.status !== 'pending' || !order.expires_at) return null;
  return (
    <p className="deadline">
      支払期限: <strong>{dateTime(order.expires_at)}</strong>（{remaining(order.expires_at, now)}）
    </p>
  );
}

function Actions({ order }: { order: Order }) {
  const pay = useOrderCommand(order.order_id, 'pay');
  const cancel = useOrderCommand(order.order_id, 'cancel');
  const [reason, setReason] = useState('');
  const canCancel = order.status === 'pending' || order.status === 'paid';
  if (order.status !== 'pending' && !canCancel) return null;
  const onCancel = (e: FormEvent) => {
    e.preventDefault();
    cancel.mutate({ reason: reason.trim() || 'お客様都合' });
  };
  return (
    <div className="card actions-card">
      {order.status === 'pending' && (
        <div className="pay">
          <button type="button" onClick={() => pay.mutate(undefined)} disabled={pay.isPending}>
            {pay.isPending ? '支払い中…' : `${yen(order.total)} を支払う`}
          </button>
          <ProblemText error={pay.error} />
        </div>
      )}
      {canCancel && (
        <form className="cancel" onSubmit={onCancel}>
          <Field label="キャンセル理由">
            {(id) => <input id={id} value={reason} maxLength={500} placeholder="例: 注文内容を間違えた" onChange={(e) => setReason(e.target.value)} />}
          </Field>
          <button type="submit" className="danger" disabled={cancel.isPending}>
            注文をキャンセル
          </button>
          <ProblemText error={cancel.error} />
        </form>
      )}
    </div>
  );
}

interface TimelineEntry {
  at: string;
  title: string;
  detail?: string;
  kind: 'event' | 'saga';
  status?: 'completed' | 'failed' | 'skipped';
}

function eventSummary(e: StoredEvent): string | undefined {
  const d = e.data as Record<string, unknown>;
  if (e.event_type === 'OrderCancelled' && d.reason) return `理由: ${String(d.reason)}`;
  if (e.event_type === 'OrderShipped' && d.tracking_number) return `追跡番号: ${String(d.tracking_number)}`;
  if (e.event_type === 'OrderPaid' && typeof d.amount === 'number') return yen(d.amount);
  if (e.event_type === 'OrderPlaced' && typeof d.total === 'number') return yen(d.total);
  if (e.event_type === 'OrderShipmentFailed' && d.reason) return String(d.reason);
  return undefined;
}

/** The order's history: its events from the event store, and its fulfilment saga's steps where the api has them. */
function Timeline({ order }: { order: Order }) {
  const stream = useStream(order.order_id);
  const entries: TimelineEntry[] = [
    ...(stream.data?.events ?? []).map((e): TimelineEntry => {
      const summary = eventSummary(e);
      return { at: e.created_at, title: `${eventLabel(e.event_type)} (${e.event_type} v${e.version})`, kind: 'event', ...(summary ? { detail: summary } : {}) };
    }),
    ...(order.fulfilment?.steps ?? []).map((s): TimelineEntry => ({ at: s.at, title: `配送 Saga: ${stepLabel(s.step)}`, kind: 'saga', status: s.status })),
  ].sort((x, y) => x.at.localeCompare(y.at));
  return (
    <section className="card" aria-labelledby="timeline-title">
      <h2 id="timeline-title">タイムライン</h2>
      <ProblemText error={stream.error} />
      <ol className="timeline">
        {entries.map((e, i) => (
          <li key={`${e.at}-${i}`} className={`timeline-${e.kind}`}>
            <time dateTime={e.at}>{dateTime(e.at)}</time>
            <span className="timeline-title">
              {e.status && <StepStatusIcon status={e.status} />} {e.title}
            </span>
            {e.detail && <span className="muted"> {e.detail}</span>}
          </li>
        ))}
      </ol>
      <p>
        <Link to={`/events/${order.order_id}`}>イベントストリームとタイムトラベル →</Link>
      </p>
    </section>
  );
}

export function OrderPage() {
  const { id = '' } = useParams();
  const order = useOrder(id);
  const session = useSession();
  return (
    <section>
      <p>
        <Link to="/orders">← 注文履歴</Link>
        {session?.user.role === 'admin' && (
          <>
            {' '}
            · <Link to="/admin?tab=orders">注文管理</Link>
          </>
        )}
      </p>
      <QueryView query={order} what="注文を読み込み中">
        {(o) => (
          <>
            <article className="card" aria-labelledby="order-title">
              <h1 id="order-title">
                注文 <code className="order-id">{o.order_id}</code>
              </h1>
              <p className="order-status" aria-live="polite">
                状態: <OrderStatusBadge status={o.status} />
                <span className="muted"> 注文日時 {dateTime(o.placed_at)}</span>
              </p>
              <Deadline order={o} />
              {o.status === 'cancelled' && o.reason && <p>キャンセル理由: {o.reason}</p>}
              {o.tracking_number && (
                <p>
                  追跡番号: <strong data-testid="tracking-number">{o.tracking_number}</strong>
                </p>
              )}
              {o.fulfilment && (
                <p>
                  配送: {SAGA_STATUS_LABEL[o.fulfilment.status]}
                  {o.fulfilment.carrier && ` · ${o.fulfilment.carrier}`}
                  {o.fulfilment.failure_reason && ` · ${o.fulfilment.failure_reason}`}
                </p>
              )}
              <div className="table-wrap">
                <table>
                  <caption className="sr-only">注文の商品</caption>
                  <thead>
                    <tr>
                      <th scope="col">商品</th>
                      <th scope="col" className="num">
                        単価
                      </th>
                      <th scope="col" className="num">
                        数量
                      </th>
                      <th scope="col" className="num">
                        小計
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {o.items.map((i) => (
                      <tr key={i.product_id}>
                        <th scope="row">
                          <Link to={`/products/${i.product_id}`}>{i.name}</Link>
                        </th>
                        <td className="num">{yen(i.price)}</td>
                        <td className="num">{i.quantity}</td>
                        <td className="num">{yen(i.subtotal)}</td>
                      </tr>
                    ))}
                  </tbody>
                  <tfoot>
                    <tr>
                      <th scope="row" colSpan={3}>
                        合計
                      </th>
                      <td className="num total">{yen(o.total)}</td>
                    </tr>
                  </tfoot>
                </table>
              </div>
            </article>
            <Actions order={o} />
            <Timeline order={o} />
          </>
        )}
      </QueryView>
    </section>
  );
}
