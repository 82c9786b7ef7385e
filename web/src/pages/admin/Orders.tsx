import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useApi, useVersions } from '../../api/context.tsx';
import { useOrders } from '../../api/queries.ts';
import type { Order, OrderChanged, OrderStatus } from '../../api/types.ts';
import { OrderStatusBadge, Pager, ProblemText, QueryView, useCursorPager } from '../../components/ui.tsx';
import { dateTime, ORDER_STATUS_LABEL, SAGA_STATUS_LABEL, shortId, yen } from '../../lib/format.ts';
import { canShipByHand } from '../../lib/timeline.ts';

function useAdminCommand(order: Order) {
  const api = useApi();
  const versions = useVersions();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ path, body }: { path: 'ship' | 'deliver'; body?: unknown }) =>
      api.post<OrderChanged>(`/orders/${order.order_id}/${path}`, body),
    onSuccess: (answer) => {
      versions.note(answer.order_id, answer.version);
      void queryClient.invalidateQueries({ queryKey: ['orders'] });
      void queryClient.invalidateQueries({ queryKey: ['order', answer.order_id] });
    },
    // Refused because the screen was behind (409: shipped by the carrier, cancelled, failed): show what is true now.
    onError: () => void queryClient.invalidateQueries({ queryKey: ['orders'] }),
  });
}

function OrderActions({ order }: { order: Order }) {
  const command = useAdminCommand(order);
  const [tracking, setTracking] = useState('');
  const id = `tracking-${order.order_id}`;
  const ship = (e: FormEvent) => {
    e.preventDefault();
    command.mutate({ path: 'ship', body: { tracking_number: tracking.trim() } });
  };
  return (
    <>
      {/* Only while the carrier has not dispatched it; a stale screen still gets the api's 409, shown below. */}
      {canShipByHand(order) && (
        <form className="ship" onSubmit={ship}>
          <label htmlFor={id} className="sr-only">
            注文 {order.order_id} の追跡番号
          </label>
          <input id={id} placeholder="追跡番号" required maxLength={100} value={tracking} onChange={(e) => setTracking(e.target.value)} />
          <button type="submit" disabled={command.isPending} aria-label={`注文 ${order.order_id} を発送`}>
            発送
          </button>
        </form>
      )}
      {order.status === 'shipped' && (
        <button
          type="button"
          onClick={() => command.mutate({ path: 'deliver' })}
          disabled={command.isPending}
          aria-label={`注文 ${order.order_id} を配達完了にする`}
        >
          配達完了
        </button>
      )}
      <ProblemText
        error={command.error}
        title={command.variables?.path === 'deliver' ? '配達完了にできませんでした' : '発送できませんでした'}
      />
    </>
  );
}

const isStatus = (s: string | null): s is OrderStatus => !!s && s in ORDER_STATUS_LABEL;

export function AdminOrders() {
  const [params, setParams] = useSearchParams();
  const requested = params.get('status');
  const status: OrderStatus | '' = isStatus(requested) ? requested : '';
  const setStatus = (next: OrderStatus | '') =>
    setParams(
      (p) => {
        const q = new URLSearchParams(p);
        if (next) q.set('status', next);
        else q.delete('status');
        return q;
      },
      { replace: true },
    );
  const pager = useCursorPager();
  const orders = useOrders({ mine: false, ...(status ? { status } : {}), ...(pager.cursor ? { cursor: pager.cursor } : {}) });
  return (
    <section className="card" aria-labelledby="admin-orders-title">
      <h2 id="admin-orders-title">すべての注文</h2>
      <div className="toolbar">
        <label htmlFor="order-status-filter">状態</label>
        <select
          id="order-status-filter"
          value={status}
          onChange={(e) => {
            setStatus(e.target.value as OrderStatus | '');
            pager.reset();
          }}
        >
          <option value="">すべて</option>
          {(Object.keys(ORDER_STATUS_LABEL) as OrderStatus[]).map((s) => (
            <option key={s} value={s}>
              {ORDER_STATUS_LABEL[s]}
            </option>
          ))}
        </select>
      </div>
      <QueryView query={orders}>
        {(page) => (
          <>
            <div className="table-wrap">
              <table className="stack-narrow">
                <caption className="sr-only">注文</caption>
                <thead>
                  <tr>
                    <th scope="col">注文番号</th>
                    <th scope="col">顧客</th>
                    <th scope="col">日時</th>
                    <th scope="col" className="num">
                      合計
                    </th>
                    <th scope="col">状態</th>
                    <th scope="col">操作</th>
                  </tr>
                </thead>
                <tbody>
                  {page.items.map((o) => (
                    <tr key={o.order_id} data-order-id={o.order_id}>
                      <th scope="row" data-label="注文番号" className="nowrap">
                        <Link to={`/orders/${o.order_id}`} aria-label={`注文 ${o.order_id}`}>
                          <code>{shortId(o.order_id)}</code>
                        </Link>
                      </th>
                      <td data-label="顧客" className="email">
                        {o.user_email}
                      </td>
                      <td data-label="日時">{dateTime(o.placed_at)}</td>
                      <td data-label="合計" className="num">
                        {yen(o.total)}
                      </td>
                      <td data-label="状態">
                        <OrderStatusBadge status={o.status} />
                        {o.tracking_number && <div className="muted">{o.tracking_number}</div>}
                        {o.refunded_amount !== null && <div className="muted">返金 {yen(o.refunded_amount)}</div>}
                        {o.fulfilment && (
                          <div className="muted">
                            <Link to={`/sagas?order_id=${o.order_id}`} aria-label={`注文 ${o.order_id} の配送 Saga`}>
                              配送 Saga: {SAGA_STATUS_LABEL[o.fulfilment.status]}
                            </Link>
                          </div>
                        )}
                      </td>
                      <td data-label="操作">
                        <OrderActions order={o} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            {page.items.length === 0 && <p className="muted">該当する注文はありません。</p>}
            <Pager pager={pager} nextCursor={page.next_cursor} label="注文" />
          </>
        )}
      </QueryView>
    </section>
  );
}
