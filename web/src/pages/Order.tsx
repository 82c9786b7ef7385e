import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link, useParams } from 'react-router';
import { useApi, useSession, useVersions } from '../api/context.tsx';
import { useOrder, useStream } from '../api/queries.ts';
import type { Order, OrderChanged } from '../api/types.ts';
import { Field, OrderStatusBadge, ProblemText, QueryView, StepStatusIcon } from '../components/ui.tsx';
import { dateTime, remaining, yen } from '../lib/format.ts';
import { fulfilmentStages, orderTimeline, sagaBehind } from '../lib/timeline.ts';
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
            {(id) => (
              <input
                id={id}
                value={reason}
                maxLength={500}
                placeholder="例: 注文内容を間違えた"
                onChange={(e) => setReason(e.target.value)}
              />
            )}
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

function Stages({ order }: { order: Order }) {
  const stages = fulfilmentStages(order);
  return (
    <ol className="stages" aria-label="配送の進み具合">
      {stages.map((s) => (
        <li key={s.key} className={`stage stage-${s.state}`} aria-current={s.state === 'current' ? 'step' : undefined}>
          <span className="stage-dot" aria-hidden="true">
            {s.state === 'done' ? '✓' : s.state === 'failed' ? '✗' : ''}
          </span>
          <span className="stage-label">{s.label}</span>
          <span className="sr-only">{{ done: '（済み）', current: '（進行中）', failed: '（中止）', todo: '' }[s.state]}</span>
        </li>
      ))}
    </ol>
  );
}

/** The order's history: its events from the event store and its fulfilment saga's steps, in the order they happened. */
function Timeline({ order }: { order: Order }) {
  const stream = useStream(order.order_id);
  const entries = orderTimeline(order, stream.data?.events ?? []);
  return (
    <section className="card" aria-labelledby="timeline-title">
      <h2 id="timeline-title">タイムライン</h2>
      <p className="muted legend">
        <span className="legend-event">イベント</span>（注文ストリームに記録された事実）と <span className="legend-saga">配送 Saga</span>
        （支払い後の処理の各ステップ）
      </p>
      <ProblemText error={stream.error} />
      <ol className="timeline">
        {entries.map((e) => (
          <li key={e.key} className={`timeline-${e.kind}${e.status ? ` timeline-${e.status}` : ''}`} data-kind={e.kind} data-code={e.code}>
            <time dateTime={e.at}>{dateTime(e.at)}</time>
            <span className="timeline-body">
              <span className="timeline-title">
                {e.status && <StepStatusIcon status={e.status} />}
                {e.kind === 'saga' && <span className="kind-tag">配送</span>}
                {e.title}{' '}
                {e.href ? (
                  <Link to={e.href} className="timeline-code">
                    {e.code}
                  </Link>
                ) : (
                  <code className="timeline-code">{e.code}</code>
                )}
              </span>
              {e.detail && <span className="timeline-detail">{e.detail}</span>}
            </span>
          </li>
        ))}
      </ol>
      {sagaBehind(order) && (
        <p className="muted" role="status" data-testid="saga-pending">
          配送 Saga の次のステップを待っています（記録されしだい表示されます）
        </p>
      )}
      <p>
        <Link to={`/events/${order.order_id}`}>イベントストリームとタイムトラベル →</Link>
      </p>
    </section>
  );
}

function Outcome({ order }: { order: Order }) {
  const f = order.fulfilment;
  return (
    <>
      {order.status === 'cancelled' && order.reason && <p>キャンセル理由: {order.reason}</p>}
      {order.tracking_number && (
        <p>
          追跡番号: <strong data-testid="tracking-number">{order.tracking_number}</strong>
          {order.shipment?.dispatched_by === 'admin' ? (
            <span className="muted">（管理者が発送）</span>
          ) : (
            f?.carrier && <span className="muted">（{f.carrier}）</span>
          )}
          {order.shipped_at && <span className="muted"> · 発送 {dateTime(order.shipped_at)}</span>}
        </p>
      )}
      {order.status === 'shipment_failed' && (
        <p className="notice bad-notice" data-testid="shipment-failed">
          配送に失敗しました{f?.failure_reason ? `: ${f.failure_reason}` : ''}。ご迷惑をおかけして申し訳ありません。
        </p>
      )}
      {order.refunded_amount !== null && (
        <p className="refund" data-testid="refund">
          返金済み: <strong>{yen(order.refunded_amount)}</strong>
          {order.refunded_at && <span className="muted"> · {dateTime(order.refunded_at)}</span>}
        </p>
      )}
    </>
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
            · <Link to="/admin?tab=orders">注文管理</Link> · <Link to={`/sagas?order_id=${encodeURIComponent(id)}`}>この注文の Saga</Link>
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
              <Outcome order={o} />
              {o.status !== 'pending' && <Stages order={o} />}
              <div className="table-wrap">
                <table className="cart">
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
                        <td className="num" data-label="単価">
                          {yen(i.price)}
                        </td>
                        <td className="num" data-label="数量">
                          {i.quantity}
                        </td>
                        <td className="num" data-label="小計">
                          {yen(i.subtotal)}
                        </td>
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
